"""The whole loop (sync -> transform -> push) against a small sandbox, and what "ended equal to
the truth" means: every raw table holds what the sandbox holds, once per key, and every push
target holds exactly the segment's members, with no provider side effect made twice."""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import httpx
import pytest

from crmsync.sandbox.link import sandbox_environment
from crmsync.pipelines.push import PushResult, push
from crmsync.pipelines.sync import ProviderResult, sync
from crmsync.sandbox.faults import Faults
from crmsync.sandbox.server import SandboxServer
from crmsync.sandbox.world import World
from crmsync.sources.common import http
from tests.push.test_push_sandbox import TARGETS, assert_equal, reset_stats, rows  # noqa: F401 (for the tests here)
from tests.sources import conftest as sources_fixtures
from tests.sources.conftest import set_faults, truth
from crmsync.transforms.runner import DEFAULT_ROOT, run_transforms

PEOPLE = 60
warehouse = sources_fixtures.warehouse  # a temp warehouse, providers pointed at `sandbox`


# Every sync does what the defaults do once a day: a Chatman full scan (deletions), DM Champ
# and Chatrace asking again for everyone not found, every Chatrace comment read again (a new
# comment does not change its opportunity). So one run after any change ends equal.
EVERY_RUN = {f"SOURCES__{key}": "0" for key in (
    "CHATMAN__FULL_SCAN_HOURS", "DMCHAMP__RECHECK_MISSING_HOURS", "CHATRACE__RECHECK_MISSING_HOURS",
    "CHATRACE__COMMENTS_FULL_REFRESH_HOURS")}


@contextmanager
def every_run_sandbox(monkeypatch: pytest.MonkeyPatch, seed: int = 7, people: int = PEOPLE) -> Iterator[SandboxServer]:
    """A sandbox of `people`, with the settings of EVERY_RUN."""
    for key, value in EVERY_RUN.items():
        monkeypatch.setenv(key, value)
    with SandboxServer(World(seed=seed, contacts=people)) as server:
        yield server


@pytest.fixture()
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxServer]:
    """A small population, the settings of EVERY_RUN."""
    with every_run_sandbox(monkeypatch) as server:
        yield server


@pytest.fixture()
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> http.RetryPolicy:
    """Short backoff and a 1 s timeout, so a test can afford many faults (the policy is the
    same code; only its numbers change)."""
    policy = functools.partial(http.RetryPolicy, backoff_s=0.02, backoff_max_s=0.2, timeout_s=1.0)
    monkeypatch.setattr(http, "RetryPolicy", policy)
    return policy()


def no_faults(sandbox: SandboxServer) -> None:
    set_faults(sandbox, **Faults().as_dict())


def stats(sandbox: SandboxServer) -> dict:
    return httpx.get(f"{sandbox.url}/_sandbox/stats", timeout=10).json()


def injected(sandbox: SandboxServer) -> Counter:
    """Faults injected since the last reset, per kind, over every provider."""
    total: Counter = Counter()
    for kinds in stats(sandbox).get("faults", {}).values():
        total.update(kinds)
    return total


def synced(warehouse: Path) -> dict[str, ProviderResult]:
    results = sync(None, warehouse)
    assert {p: r.error for p, r in results.items()} == dict.fromkeys(results), "a provider failed"
    return results


def transformed(warehouse: Path) -> None:
    result = run_transforms(warehouse, DEFAULT_ROOT)
    assert result.status == "ok", result


def pushed(warehouse: Path, **options: object) -> PushResult:
    result = push(warehouse, **options)
    assert result.status == "ok", {(s, p): t.error for s, ts in result.segments.items()
                                   for p, t in ts.items() if t.error}
    return result


def primary_keys(con: duckdb.DuckDBPyConnection, dataset: str) -> dict[str, list[str]]:
    """table -> primary key columns, as dlt's stored schema of the dataset declares them."""
    (schema,), = con.execute(f"SELECT schema FROM {dataset}._dlt_version ORDER BY inserted_at DESC LIMIT 1").fetchall()
    tables = json.loads(schema)["tables"]
    return {name: [c for c, spec in table.get("columns", {}).items() if spec.get("primary_key")]
            for name, table in tables.items() if not name.startswith("_dlt")}


def assert_raw_equals_truth(sandbox: SandboxServer, warehouse: Path, providers: list[str] | None = None,
                            uncounted: tuple[str, ...] = ()) -> None:
    """Every table the truth counts holds that many live rows, and no key is there twice;
    `uncounted` ("provider.table") are only checked for keys loaded twice."""
    counts = truth(sandbox)["counts"]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for provider, tables in counts.items():
            if providers is not None and provider not in providers:
                continue
            keys = primary_keys(con, f"raw_{provider}")
            for table, expected in tables.items():
                key = ", ".join(keys[table])
                assert key, f"raw_{provider}.{table} has no primary key"
                twice = con.execute(f"SELECT {key}, count(*) FROM raw_{provider}.{table} "
                                    f"GROUP BY ALL HAVING count(*) > 1 LIMIT 5").fetchall()
                assert twice == [], f"raw_{provider}.{table}: keys loaded twice {twice}"
                columns = {c for (c,) in con.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = ? "
                    "AND table_name = ?", [f"raw_{provider}", table]).fetchall()}
                live = " WHERE deleted_at IS NULL" if "deleted_at" in columns else ""
                (loaded,), = con.execute(f"SELECT count(*) FROM raw_{provider}.{table}{live}").fetchall()
                assert loaded == expected or f"{provider}.{table}" in uncounted, \
                    f"raw_{provider}.{table}: {loaded} live rows, the sandbox has {expected}"


@contextmanager
def waabot_api(sandbox: SandboxServer) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    """A client logged in to the sandbox's Waabot, and the instance credentials."""
    env = {k.removeprefix("SOURCES__WAABOT__").lower(): v for k, v in sandbox_environment(sandbox.url).items()
           if k.startswith("SOURCES__WAABOT__")}
    with httpx.Client(base_url=env["base_url"], timeout=10) as api:
        login = api.post("/sessions", json={"email": env["email"], "password": env["password"]})
        tokens = login.raise_for_status().json()["data"]
        api.headers.update({"Authorization": f"Bearer {tokens['accessToken']}", "x-refresh": tokens["refreshToken"]})
        yield api, {"session_id": env["session_id"], "access_token": env["access_token"]}


def waabot_groups(sandbox: SandboxServer) -> Counter:
    """The Waabot account's group titles, each with how many groups carry it."""
    with waabot_api(sandbox) as (api, instance):
        listing = api.get("/contact_groups", params=instance)
    listing.raise_for_status()
    return Counter(g["title"] for g in listing.json()["data"])


def assert_pushed_once(sandbox: SandboxServer, warehouse: Path) -> None:
    """Every target holds exactly the segment's members, one membership (one Waabot record)
    per person, and no target was created twice."""
    assert_equal(sandbox, warehouse)
    titles = waabot_groups(sandbox)
    twice = {name: titles[name] for _, provider, name in TARGETS if provider == "waabot" and titles[name] > 1}
    assert twice == {}, f"Waabot groups created more than once: {twice}"


def cli_environment(sandbox_url: str, tmp_path: Path) -> dict[str, str]:
    """The environment of a `crmsync` subprocess: this test's dlt state folder and sync
    settings, no provider address (`--sandbox URL` gives those)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOURCES__")}
    return {**env, **EVERY_RUN, "CRMSYNC_PIPELINES_DIR": str(tmp_path / "pipelines"),
            "FLOW__RETRY_DELAY_SECONDS": "0"}


def crmsync(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "crmsync", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def requests_seen(sandbox: SandboxServer) -> int:
    return sum(sum(calls.values()) for calls in stats(sandbox)["requests"].values())


def kill_after_requests(process: subprocess.Popen, sandbox: SandboxServer, requests: int,
                        timeout: float = 180) -> None:
    """SIGKILL `process` once the sandbox has answered `requests` requests since the last
    reset; fail if it ended first (the kill would prove nothing)."""
    deadline = time.monotonic() + timeout
    while requests_seen(sandbox) < requests and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    kill(process, f"after {requests} requests")


def kill(process: subprocess.Popen, when: str) -> None:
    if process.poll() is not None:
        out, err = process.communicate()
        pytest.fail(f"the process ended before it could be killed {when}: {err[-2000:]}")
    process.send_signal(signal.SIGKILL)
    process.communicate()


def finished(process: subprocess.Popen, timeout: float = 300) -> str:
    """Wait for `process`; fail unless it exited 0; answer its stdout."""
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err[-3000:]
    return out
