"""`crmsync run` from the command line: the flow once against a running sandbox, its JSON
summary alone on stdout, and the report a person reads of that same summary."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from crmsync.report import run_report

from crmsync.sandbox.server import SandboxServer


@pytest.mark.slow  # the whole loop in a subprocess; test_flow.py runs it in-process in make test
def test_run_json_then_report(prefect_harness: None, flow_sandbox: SandboxServer, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    from prefect.settings import PREFECT_API_URL

    warehouse = tmp_path / "w.duckdb"
    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value()),
           "CRMSYNC_PIPELINES_DIR": str(tmp_path / "pipelines"), "COLUMNS": "160"}
    command = [sys.executable, "-m", "crmsync", "run", "--sandbox", flow_sandbox.url, "--warehouse", str(warehouse)]
    first = subprocess.run([*command, "--json"], capture_output=True, text=True, timeout=300, env=env)
    assert first.returncode == 0, first.stderr[-2000:]
    summary = json.loads(first.stdout)
    assert "started" not in first.stderr and " members" not in first.stderr, first.stderr  # --json: no progress
    assert "Finished in state" not in first.stderr, first.stderr  # nor Prefect's per-task lines
    assert (summary["state"], summary["prefect_state"]) == ("ok", "COMPLETED")
    counts = httpx.get(f"{flow_sandbox.url}/_sandbox/truth", timeout=60).json()["counts"]
    assert summary["providers"]["whautomate"]["read"]["contacts"] == counts["whautomate"]["contacts"]
    assert summary["push_totals"]["added"] > 0

    run_report(summary, warehouse)
    report = capsys.readouterr().out
    assert report.splitlines()[-1] == "ok"
    for name, figures in summary["segments"].items():
        assert any(name in line and f"{figures['size']:,}" in line for line in report.splitlines()), name


@pytest.mark.slow  # Prefect's temporary server starts in the command: 10-60 s
def test_run_without_a_prefect_server_says_it_starts_one_and_prints_no_banner(
        flow_sandbox: SandboxServer, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), CRMSYNC_PIPELINES_DIR=str(tmp_path / "pipelines"),
               PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="240")
    done = subprocess.run([sys.executable, "-m", "crmsync", "run", "--sandbox", flow_sandbox.url, "--provider",
                           "waabot", "--no-push", "--warehouse", str(tmp_path / "w.duckdb")],
                          capture_output=True, text=True, timeout=400, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stderr.splitlines()
    assert lines[0] == "prefect-server: started", done.stderr
    assert any(line.startswith("prefect-server: temporary, on http://127.0.0.1:") for line in lines), done.stderr
    assert "sync-waabot: started" in lines and "transform: started" in lines, done.stderr
    assert "Starting temporary server" not in done.stderr and "Finished in state" not in done.stderr
