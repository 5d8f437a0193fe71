"""SIGKILL at many points of sync, transform and push, then run again: the warehouse opens,
passes the model tests and ends equal to the truth, no key loaded twice, no membership or
Waabot record made twice."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import duckdb
import pytest

from crmsync.pipelines.sync import sync
from crmsync.sandbox.server import SandboxServer
from tests.flows.conftest import prefect_harness  # noqa: F401  (the Prefect API `crmsync run` reports to)
from tests.reliability.conftest import (assert_pushed_once, assert_raw_equals_truth, cli_environment, crmsync,
                                        finished, kill_after_requests, requests_seen, reset_stats, rows,
                                        synced, transformed)
from tests.sources.conftest import churn

# A run of the 60-people sandbox makes about 400 sync requests, then about 270 push requests.
KILL_RUN_AFTER = (5, 40, 120, 250, 380, 450, 520, 600)
KILL_TRANSFORM_AT = (0.1, 0.3, 0.5, 0.7, 0.9)  # shares of an uninterrupted transform's work
FAST_SYNC = ["chatman", "whautomate", "chatrace"]  # Chatrace finds contacts through the first two


def test_sync_killed_midway_then_run_again_loads_everything_once(sandbox: SandboxServer, warehouse: Path) -> None:
    """The fast one: a forked copy of this process syncs (no interpreter to start), killed
    inside the paged, concurrent listings."""
    reset_stats(sandbox)
    child = os.fork()
    if child == 0:  # pragma: no cover - the child never returns into pytest
        try:
            sync(FAST_SYNC, warehouse)
        finally:
            os._exit(0)
    deadline = time.monotonic() + 120
    while requests_seen(sandbox) < 60 and time.monotonic() < deadline:
        time.sleep(0.02)
    ended, _ = os.waitpid(child, os.WNOHANG)
    assert ended == 0, "the sync ended before it could be killed"
    os.kill(child, signal.SIGKILL)
    os.waitpid(child, 0)
    results = sync(FAST_SYNC, warehouse)
    assert {p: r.error for p, r in results.items()} == dict.fromkeys(FAST_SYNC)
    assert_raw_equals_truth(sandbox, warehouse, FAST_SYNC)


@pytest.fixture()
def prefect_api(prefect_harness: None) -> str:  # noqa: F811
    from prefect.settings import PREFECT_API_URL

    return str(PREFECT_API_URL.value())


@pytest.mark.slow
@pytest.mark.parametrize("requests", KILL_RUN_AFTER)
def test_run_killed_after_some_requests_then_run_again_ends_equal(
        requests: int, sandbox: SandboxServer, warehouse: Path, tmp_path: Path, prefect_api: str) -> None:
    env = {**cli_environment(sandbox.url, tmp_path), "PREFECT_API_URL": prefect_api}
    args = ["run", "--sandbox", sandbox.url, "--warehouse", str(warehouse), "--json"]
    reset_stats(sandbox)
    kill_after_requests(crmsync(args, env), sandbox, requests)
    finished(crmsync(args, env))
    assert_pushed_once(sandbox, warehouse)
    synced(warehouse)  # learn what the push created, then compare every table
    assert_raw_equals_truth(sandbox, warehouse)
    transformed(warehouse)  # the model tests pass


def opened(process: subprocess.Popen, path: Path, timeout: float = 120) -> float:
    """When `process` opened `path` (Linux: its open files), by time.monotonic()."""
    deadline = time.monotonic() + timeout
    fds = Path(f"/proc/{process.pid}/fd")
    while time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(OSError):  # a descriptor closed while being read
            if any(os.readlink(fd) == str(path) for fd in fds.iterdir()):
                return time.monotonic()
        time.sleep(0.005)
    pytest.fail(f"the process never opened {path}")


@pytest.mark.slow
def test_transform_killed_at_many_points_keeps_the_last_build(
        sandbox: SandboxServer, warehouse: Path, tmp_path: Path) -> None:
    synced(warehouse)
    transformed(warehouse)
    env = cli_environment(sandbox.url, tmp_path)
    args = ["transform", "--warehouse", str(warehouse)]
    process = crmsync(args, env)
    start = opened(process, warehouse)
    finished(process)
    working = time.monotonic() - start  # from opening the warehouse to the end
    churn(sandbox, update=0.1, create=0.05, delete=0.05)
    synced(warehouse)  # the next build would change the segments: a half-kept one would show
    before = rows(warehouse, "SELECT segment, person_id FROM crm.segment_members ORDER BY ALL")
    landed, kept = 0, []
    for share in KILL_TRANSFORM_AT:
        process = crmsync(args, env)
        time.sleep(max(0.0, opened(process, warehouse) + working * share - time.monotonic()))
        landed += process.poll() is None  # the last points may come after a faster run ended
        process.send_signal(signal.SIGKILL)
        process.communicate()
        with duckdb.connect(str(warehouse), read_only=True) as con:
            kept.append(con.execute("SELECT segment, person_id FROM crm.segment_members ORDER BY ALL").fetchall())
    assert landed >= len(KILL_TRANSFORM_AT) // 2, f"only {landed} kills landed inside a transform"
    finished(crmsync(args, env))  # exit 0: every model built and its tests passed
    built = rows(warehouse, "SELECT segment, person_id FROM crm.segment_members ORDER BY ALL")
    assert built != before, "the churn changed no segment: the kills could not show a half-kept build"
    # Each kill left the last build whole, or (killed after its commit) the new one whole.
    assert [k == before or k == built for k in kept] == [True] * len(kept)
