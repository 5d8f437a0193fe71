"""`crmsync status` from the command line: JSON only on stdout, and a table for people."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from crmsync.flows.ops import write_sync_run
from crmsync.flows.summary import RunSummary
from crmsync.pipelines.sync import ProviderResult


def test_status_json_and_table(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    at = datetime(2026, 1, 1, tzinfo=UTC)
    write_sync_run(warehouse, RunSummary("r1", "crmsync-sync", at, at, providers={
        "chatman": ProviderResult(rows={"contacts": 4}, read={"contacts": 4})}))
    done = subprocess.run([sys.executable, "-m", "crmsync", "status", "--warehouse", str(warehouse), "--json"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["last_runs"][0]["run_id"] == "r1"
    assert document["freshness"][0]["table"] == "contacts"
    table = subprocess.run([sys.executable, "-m", "crmsync", "status", "--warehouse", str(warehouse)],
                           capture_output=True, text=True, timeout=60, env={**os.environ, "COLUMNS": "160"})
    assert table.returncode == 0, table.stderr
    assert "crmsync-sync" in table.stdout and "2026-01-01 00:00:00" in table.stdout
