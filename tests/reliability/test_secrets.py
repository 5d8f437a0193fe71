"""No credential leaks: after a loop run with faults on (5xx, a rate limit) and one provider
with a wrong key, none of the sandbox's secrets, the wrong key, nor any Waabot session
token (the login's and every renewed `x-access-token`) appears in what crmsync prints
(progress, tables, --json, errors), in what it logs, in any text column of the warehouse
(dlt's compressed pipeline state decoded), or in any file of dlt's working folders (state,
load packages, parquet files, traces)."""

from __future__ import annotations

import gzip
import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb
import httpx
import pyarrow.parquet as pq
import pytest
from dlt.common.versioned_state import decompress_state

from crmsync.sandbox import credentials
from crmsync.sandbox.providers.waabot import tokens
from crmsync.sandbox.server import SandboxServer
from crmsync.sandbox.world import World
from tests.flows.conftest import prefect_harness
from tests.reliability.bad_input_fixtures import point_at, run_cli

WRONG_KEY = f"wrong-dmchamp-key-{uuid.uuid4().hex}"
__all__ = ["prefect_harness"]  # the session's Prefect test harness, for the flow test


@pytest.fixture()
def issued_tokens(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every Waabot token the sandbox (in this process) issues."""
    issued: list[str] = []
    original = tokens.issue

    def issue(*args: object, **kwargs: object) -> str:
        token = original(*args, **kwargs)
        issued.append(token)
        return token

    monkeypatch.setattr(tokens, "issue", issue)
    return issued


@pytest.fixture()
def faulty_sandbox(issued_tokens: list[str]) -> Iterator[SandboxServer]:
    with SandboxServer(World(seed=11, contacts=60)) as server:
        # Every access token is expired at once: each Waabot answer carries a renewed one.
        server.world.providers["waabot"].access_ttl_s = -1
        httpx.post(f"{server.url}/_sandbox/faults", json={"error_rate": 0.1, "rate_limit": 40},
                   timeout=10).raise_for_status()
        yield server


def text_of_warehouse(warehouse: Path) -> Iterator[tuple[str, str]]:
    """(where, text) for every non-null text value of every table, dlt state decoded."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns = con.execute(
            "SELECT schema_name, table_name, column_name FROM duckdb_columns() "
            "WHERE data_type NOT IN ('BIGINT', 'INTEGER', 'DOUBLE', 'BOOLEAN', 'DATE', 'SMALLINT', 'HUGEINT') "
            "AND data_type NOT LIKE 'TIMESTAMP%' AND data_type NOT LIKE 'DECIMAL%'").fetchall()
        for schema, table, column in columns:
            values = con.execute(f'SELECT DISTINCT CAST("{column}" AS VARCHAR) FROM "{schema}"."{table}" '
                                 f'WHERE "{column}" IS NOT NULL').fetchall()
            where = f"{schema}.{table}.{column}"
            for (value,) in values:
                yield where, value
                if table == "_dlt_pipeline_state" and column == "state":
                    yield where + " (decoded)", json.dumps(decompress_state(value))


def text_of_files(folder: Path) -> Iterator[tuple[str, str]]:
    """(file, text) of every file under `folder`: gzip unpacked, parquet read, the rest as bytes."""
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        if path.suffix == ".parquet":
            yield str(path), json.dumps(pq.read_table(path).to_pylist(), default=str)
        yield str(path), data.decode("utf-8", errors="replace")


def leaks(secrets: list[str], places: Iterator[tuple[str, str]]) -> list[str]:
    return sorted({f"{secret[:12]}… in {where}" for where, text in places for secret in secrets if secret in text})


@pytest.mark.slow  # every provider through a 40 rps limit and 10% errors, then push: ~40 s
def test_no_secret_in_output_logs_warehouse_or_dlt_files(
        faulty_sandbox: SandboxServer, issued_tokens: list[str], tmp_path: Path, capsys, caplog,
        monkeypatch) -> None:
    point_at(monkeypatch, faulty_sandbox, tmp_path / "pipelines")
    monkeypatch.setenv("SOURCES__DMCHAMP__API_KEY", WRONG_KEY)
    caplog.set_level(logging.DEBUG)
    warehouse = str(tmp_path / "w.duckdb")
    shown = [run_cli(capsys, monkeypatch, "sync", "--warehouse", warehouse, "--json"),
             run_cli(capsys, monkeypatch, "sync", "--warehouse", warehouse),
             run_cli(capsys, monkeypatch, "transform", "--warehouse", warehouse, "--json"),
             run_cli(capsys, monkeypatch, "push", "--warehouse", warehouse, "--json"),
             run_cli(capsys, monkeypatch, "push", "--warehouse", warehouse),
             run_cli(capsys, monkeypatch, "status", "--warehouse", warehouse, "--json")]

    # The run met what it was meant to meet: the wrong key, faults, renewed Waabot tokens.
    synced = json.loads(shown[0].stdout)["providers"]
    assert synced["dmchamp"]["status"] == "failed" and "sources.dmchamp.api_key" in synced["dmchamp"]["error"]
    assert synced["waabot"]["status"] == "ok", synced["waabot"]["error"]
    assert sum(p["retries"] for p in synced.values()) > 0, "no fault was met"
    assert len(issued_tokens) > 3, "no Waabot token was renewed"
    secrets = [*credentials.ALL_SECRETS, WRONG_KEY, *issued_tokens]

    printed = [(f"{i}: stdout", r.stdout) for i, r in enumerate(shown)] + \
              [(f"{i}: stderr", r.stderr) for i, r in enumerate(shown)]
    logged = [(f"log {r.name}", r.getMessage() + (r.exc_text or "")) for r in caplog.records
              if not r.name.startswith("httpcore")]  # see test_http_debug_logs_carry_no_token
    assert logged, "nothing was logged: the log check would be empty"
    found = (leaks(secrets, iter(printed)) + leaks(secrets, iter(logged))
             + leaks(secrets, text_of_warehouse(tmp_path / "w.duckdb"))
             + leaks(secrets, text_of_files(tmp_path / "pipelines")))
    assert found == []


def test_sync_output_logs_and_files_carry_no_secret(faulty_sandbox: SandboxServer, issued_tokens: list[str],
                                                    tmp_path: Path, quick_retries, capsys, caplog,
                                                    monkeypatch) -> None:
    """The fast share of the check above: Waabot (tokens renewed on every answer), Whautomate
    and DM Champ (its key in the query string, here a wrong one), 10% of requests failing."""
    point_at(monkeypatch, faulty_sandbox, tmp_path / "pipelines")
    monkeypatch.setenv("SOURCES__DMCHAMP__API_KEY", WRONG_KEY)
    # No rate limit here (its waits are the slow test's); Whautomate's ~70 requests surely
    # meet some of the 10% errors.
    httpx.post(f"{faulty_sandbox.url}/_sandbox/faults", json={"rate_limit": None}, timeout=10).raise_for_status()
    caplog.set_level(logging.INFO)
    shown = run_cli(capsys, monkeypatch, "sync", "--provider", "waabot", "--provider", "whautomate",
                    "--provider", "dmchamp", "--warehouse", str(tmp_path / "w.duckdb"), "--json")
    synced = json.loads(shown.stdout)["providers"]
    assert synced["dmchamp"]["status"] == "failed" and synced["waabot"]["status"] == "ok"
    assert sum(p["retries"] for p in synced.values()) > 0, "no fault was met"
    assert len(issued_tokens) > 3, "no Waabot token was renewed"
    secrets = [*credentials.ALL_SECRETS, WRONG_KEY, *issued_tokens]
    found = (leaks(secrets, iter([("stdout", shown.stdout), ("stderr", shown.stderr)]))
             + leaks(secrets, ((f"log {r.name}", r.getMessage()) for r in caplog.records))
             + leaks(secrets, text_of_warehouse(tmp_path / "w.duckdb"))
             + leaks(secrets, text_of_files(tmp_path / "pipelines")))
    assert found == []


def test_http_debug_logs_carry_no_token(faulty_sandbox: SandboxServer, issued_tokens: list[str],
                                        tmp_path: Path, caplog, monkeypatch) -> None:
    """A user who turns logging up to DEBUG to find a problem must not get tokens in the log."""
    from crmsync.pipelines.sync import sync

    point_at(monkeypatch, faulty_sandbox, tmp_path / "pipelines")
    httpx.post(f"{faulty_sandbox.url}/_sandbox/faults", json={"rate_limit": None, "error_rate": 0},
               timeout=10).raise_for_status()
    caplog.set_level(logging.DEBUG)
    assert sync(["waabot"], tmp_path / "w.duckdb")["waabot"].status == "ok"
    assert len(issued_tokens) > 3
    assert leaks(issued_tokens, ((f"log {r.name}", r.getMessage()) for r in caplog.records)) == []


@pytest.mark.slow  # the whole job once as a Prefect flow (harness start, sync, transform, push): ~60 s
def test_flow_run_logs_and_artifacts_carry_no_secret(faulty_sandbox: SandboxServer, issued_tokens: list[str],
                                                     tmp_path: Path, prefect_harness: None, quick_retries,
                                                     capsys, monkeypatch) -> None:
    from prefect.client.orchestration import get_client

    point_at(monkeypatch, faulty_sandbox, tmp_path / "pipelines")
    monkeypatch.setenv("SOURCES__DMCHAMP__API_KEY", WRONG_KEY)
    monkeypatch.setenv("FLOW__RETRY_DELAY_SECONDS", "0")
    shown = run_cli(capsys, monkeypatch, "run", "--warehouse", str(tmp_path / "w.duckdb"), "--json")
    summary = json.loads(shown.stdout)
    assert summary["providers"]["dmchamp"]["status"] == "failed", summary["providers"]["dmchamp"]
    assert summary["providers"]["waabot"]["status"] == "ok", summary["providers"]["waabot"]
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts()
        logs = client.read_logs()
    assert artifacts and logs, "the flow left no artifact or log to check"
    secrets = [*credentials.ALL_SECRETS, WRONG_KEY, *issued_tokens]
    found = (leaks(secrets, iter([("stdout", shown.stdout), ("stderr", shown.stderr)]))
             + leaks(secrets, ((f"artifact {a.key}", json.dumps([a.data, a.description], default=str))
                               for a in artifacts))
             + leaks(secrets, ((f"prefect log {log.name}", log.message) for log in logs))
             + leaks(secrets, text_of_warehouse(tmp_path / "w.duckdb"))
             + leaks(secrets, text_of_files(tmp_path / "pipelines")))
    assert found == []
