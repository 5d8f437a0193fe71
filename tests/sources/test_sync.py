"""The whole sync of every provider: a crash and a rerun, one provider refusing its key."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pytest
from crmsync.pipelines.sync import sync, sync_provider
from crmsync.sandbox.server import SandboxServer
from crmsync.sources import registry

from tests.sources.conftest import churn, query, set_faults, truth


def live_keys(warehouse: Path) -> dict[str, set[tuple]]:
    """Every raw table's rows as tuples of their non-dlt columns, deleted ones apart."""
    out: dict[str, set[tuple]] = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute("SELECT schema_name, table_name FROM duckdb_tables() "
                             "WHERE schema_name LIKE 'raw_%' AND schema_name NOT LIKE '%staging' "
                             "AND table_name NOT LIKE '\\_dlt%' ESCAPE '\\'").fetchall()
        for schema, table in tables:
            columns = [c for (c,) in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? "
                "AND column_name NOT LIKE '\\_dlt%' ESCAPE '\\'", [schema, table]).fetchall()]
            # When a row was noticed differs between two syncs; whether it is deleted does not.
            picked = [f'"{c}"' for c in columns if c not in ("deleted_at", "found_at", "looked_up_at")]
            if "deleted_at" in columns:
                picked.append("deleted_at IS NULL")
            rows = con.execute(f'SELECT {", ".join(picked)} FROM "{schema}"."{table}"').fetchall()
            out[f"{schema}.{table}"] = {tuple(map(str, row)) for row in rows}
    return out


def duplicate_keys(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        dupes = {}
        for schema, table, keys in con.execute(
                "SELECT schema_name, table_name, constraint_column_names FROM duckdb_constraints() "
                "WHERE constraint_type = 'PRIMARY KEY' AND schema_name LIKE 'raw_%'").fetchall():
            cols = ", ".join(f'"{k}"' for k in keys)
            n = con.execute(f'SELECT count(*) FROM (SELECT {cols} FROM "{schema}"."{table}" '
                            f'GROUP BY ALL HAVING count(*) > 1)').fetchone()[0]
            if n:
                dupes[f"{schema}.{table}"] = n
        return dupes


@pytest.mark.slow  # ~30 s each; tests/reliability/test_kill_loop.py keeps a kill in make test
@pytest.mark.parametrize("kill_after", [1.0, 3.0])
def test_sigkill_then_rerun_equals_an_uninterrupted_sync(
        kill_after: float, sandbox: SandboxServer, warehouse: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    set_faults(sandbox, latency_ms=15)  # long enough a sync to be killed in the middle
    process = subprocess.Popen([sys.executable, "-m", "crmsync", "sync", "--warehouse", str(warehouse),
                                "--json"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=dict(os.environ))
    time.sleep(kill_after)
    finished_first = process.poll() is not None
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    set_faults(sandbox, latency_ms=0)
    results = sync(None, warehouse)
    assert all(r.status == "ok" for r in results.values()), {p: r.error for p, r in results.items()}
    reference = tmp_path / "reference.duckdb"
    monkeypatch.setenv("CRMSYNC_PIPELINES_DIR", str(tmp_path / "reference-pipelines"))
    assert all(r.status == "ok" for r in sync(None, reference).values())
    assert not finished_first, "the sync ended before it was killed: nothing was tested"
    assert live_keys(warehouse) == live_keys(reference)
    assert duplicate_keys(warehouse) == {}


@pytest.mark.slow  # in make test: tests/flows/test_flow.py test_a_failing_provider_does_not_stop_the_others_and_is_not_retried
def test_one_provider_refusing_its_key_does_not_stop_the_others(
        warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__WHAUTOMATE__API_KEY", "wrong")
    results = sync(None, warehouse)
    assert list(results) == list(registry.names())
    assert results["whautomate"].status == "failed"
    assert results["whautomate"].error == ("whautomate: the API refused the credentials (403); "
                                           "check sources.whautomate.api_key")
    others = {p: r.status for p, r in results.items() if p != "whautomate"}
    assert others == {p: "ok" for p in others}
    assert all(results[p].rows for p in others), {p: results[p].rows for p in others}


def test_listable_providers_sync_side_by_side_in_one_process(
        sandbox: SandboxServer, warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The flow runs them as parallel tasks: their loads and full-scan deletion marks share the
    one warehouse file (a connection opened another way is refused while a load is open)."""
    monkeypatch.setenv("SOURCES__CHATMAN__FULL_SCAN_HOURS", "0")  # every run marks deletions
    listable = ["chatman", "whautomate", "waabot"]
    for round_ in ("full", "after churn"):
        with ThreadPoolExecutor(len(listable)) as pool:
            results = dict(zip(listable, pool.map(lambda p: sync_provider(p, warehouse), listable)))
        assert {p: r.error for p, r in results.items()} == {p: None for p in listable}, round_
        expected = truth(sandbox)["counts"]
        for provider in listable:
            loaded = query(warehouse, f"SELECT count(*) FROM raw_{provider}.contacts WHERE deleted_at IS NULL")
            assert loaded[0][0] == expected[provider]["contacts"], (round_, provider)
        churn(sandbox, update=0.05, create=0.05, delete=0.05)
