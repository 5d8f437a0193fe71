"""Providers syncing side by side into one lake, each in its own process, while a reader
queries; one writer killed with SIGKILL mid-load; the rerun catches up: the lake ends equal to
the sandbox's truth with no duplicate key."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dlt
import duckdb
import pytest
from crmsync.kernel.errors import UserError
from crmsync.kernel.lake import Lake
from crmsync.kernel.warehouse import open_warehouse
from crmsync.pipelines.sync import pipelines_dir, sync_provider
from crmsync.sandbox.server import SandboxServer

from tests.lake.conftest import lake_query
from tests.sources.conftest import set_faults, truth

PROVIDERS = ("chatman", "whautomate", "waabot")
KILLED = "whautomate"


def start_sync(provider: str, lake: Lake, folder: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "crmsync", "sync", "--provider", provider,
                             "--warehouse", str(lake), "--json"], cwd=folder, env=dict(os.environ),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def read_while(running: dict[str, subprocess.Popen], lake: Lake, seconds: float) -> int:
    """Query the lake over and over while the writers load, until a read saw loaded contacts
    (or `seconds` passed); the reads that saw them. A read never fails once the first writer
    made the lake: a schema not loaded yet is simply not listed."""
    seen = 0
    deadline = time.monotonic() + seconds
    while not seen and time.monotonic() < deadline and any(p.poll() is None for p in running.values()):
        try:
            con = open_warehouse(lake, read_only=True)
        except UserError as error:
            assert "run crmsync sync first" in str(error) and not seen, error
            continue
        with con:
            schemas = {s for (s,) in con.execute("SELECT schema_name FROM duckdb_tables() WHERE "
                                                 "database_name = current_database() AND table_name = 'contacts'"
                                                 ).fetchall()}
            for provider in PROVIDERS:
                if f"raw_{provider}" in schemas:
                    seen += con.execute(f"SELECT count(*) > 0 FROM raw_{provider}.contacts").fetchone()[0]
    return seen


def duplicate_keys(lake: Lake, provider: str) -> dict[str, int]:
    """Rows sharing a primary key (dlt's schema says which), per table of the provider."""
    schema = dlt.attach(f"crmsync_{provider}", pipelines_dir=str(pipelines_dir(lake))).default_schema
    dupes = {}
    with open_warehouse(lake, read_only=True) as con:
        for table in schema.data_tables():
            name = table["name"]
            keys = [c for c, column in table["columns"].items() if column.get("primary_key")]
            if not keys:
                continue
            columns = ", ".join(f'"{k}"' for k in keys)
            try:
                n = con.execute(f'SELECT count(*) FROM (SELECT {columns} FROM raw_{provider}."{name}" '
                                'GROUP BY ALL HAVING count(*) > 1)').fetchone()[0]
            except duckdb.CatalogException:  # declared, never loaded (no rows yet)
                continue
            if n:
                dupes[f"raw_{provider}.{name}"] = n
    return dupes


@pytest.mark.slow  # ~2-4 min: three syncs at once, a kill, a rerun, against PostgreSQL
def test_side_by_side_syncs_a_reader_and_a_killed_writer_end_equal_to_the_truth(
        sandbox: SandboxServer, lake: Lake, tmp_path: Path) -> None:
    set_faults(sandbox, latency_ms=20)  # long enough syncs to overlap and to kill one mid-load
    running = {p: start_sync(p, lake, tmp_path) for p in PROVIDERS}
    reads = read_while(running, lake, seconds=300)
    killed_while_running = running[KILLED].poll() is None
    running[KILLED].send_signal(signal.SIGKILL)
    running[KILLED].wait(timeout=30)
    for provider in PROVIDERS:
        if provider != KILLED:
            assert running[provider].wait(timeout=600) == 0, running[provider].stderr.read()
    set_faults(sandbox, latency_ms=0)

    rerun = sync_provider(KILLED, lake)

    assert killed_while_running, "the sync ended before it was killed: nothing was tested"
    assert reads > 0, "the reader never saw loaded contacts while the writers ran"
    assert rerun.status == "ok", rerun.error
    expected = truth(sandbox)["counts"]
    for provider in PROVIDERS:
        loaded = lake_query(lake, f"SELECT count(*) FROM raw_{provider}.contacts WHERE deleted_at IS NULL")
        assert loaded[0][0] == expected[provider]["contacts"], provider
        assert duplicate_keys(lake, provider) == {}, provider
