"""`crmsync serve` for real: a subprocess serving the flows against the session's Prefect
server registers both deployments on their crons, runs what the server schedules for them,
stops on SIGTERM and leaves the schedules active.

The test harness's temporary server runs no scheduler service (measured: no run in 4 minutes
on a one-minute cron), so the test asks the server for the run a cron tick would create;
against `prefect server start` the crons do create the runs (checked by hand, and it needs
sqlalchemy<2.1: see pyproject.toml)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

from crmsync.kernel.child_server import answers
from crmsync.sandbox.link import sandbox_environment
from crmsync.flows.job import FULL_SCAN_FLOW, SYNC_FLOW
from crmsync.flows.status import read_status
from crmsync.sandbox.server import SandboxServer

T = TypeVar("T")


@pytest.mark.slow  # a served flow run is its own process: ~40 s
def test_serve_runs_scheduled_flow_runs_and_stops_on_sigterm(
        prefect_harness: None, flow_sandbox: SandboxServer, tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL

    warehouse = tmp_path / "served.duckdb"
    env = {**os.environ, **sandbox_environment(flow_sandbox.url),
           "PREFECT_API_URL": str(PREFECT_API_URL.value()),
           "CRMSYNC_PIPELINES_DIR": str(tmp_path / "pipelines"),
           "FLOW__SYNC_CRON": "*/5 * * * *", "PREFECT_RUNNER_POLL_FREQUENCY": "2"}
    served = subprocess.Popen([sys.executable, "-m", "crmsync", "serve", "--warehouse", str(warehouse)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        with get_client(sync_client=True) as client:
            deployment = wait_for(lambda: deployment_named(client, SYNC_FLOW), seconds=60)
            assert deployment is not None, "serve registered no deployment"
            assert [s.schedule.cron for s in deployment.schedules] == ["*/5 * * * *"]
            scheduled = client.create_flow_run_from_deployment(deployment.id)
            finished = wait_for(lambda: finished_state(client, scheduled.id), seconds=240)
    finally:
        served.send_signal(signal.SIGTERM)
        output, _ = served.communicate(timeout=60)
    assert finished == "COMPLETED", f"the served run ended {finished}; serve said:\n{output[-3000:]}"
    # Calm: crmsync's line per run, no Prefect banner or per-task lines (flows/console.py).
    assert "Your deployments are being served" not in output and "Finished in state" not in output, output
    assert " - ok: " in output, output
    assert served.returncode is not None, "serve did not stop on SIGTERM"
    with get_client(sync_client=True) as client:
        for name in (SYNC_FLOW, FULL_SCAN_FLOW):
            deployment = deployment_named(client, name)
            assert not deployment.paused and all(s.active for s in deployment.schedules), name
    last = {r["flow"]: r["status"] for r in read_status(warehouse).last_runs}
    assert last == {SYNC_FLOW: "ok"}


def deployment_named(client, name: str):  # noqa: ANN001, ANN201 - Prefect's client and model
    from prefect.exceptions import ObjectNotFound

    try:
        return client.read_deployment_by_name(f"{name}/{name}")
    except ObjectNotFound:
        return None


def finished_state(client, flow_run_id) -> str | None:  # noqa: ANN001 - Prefect's client, UUID
    state = client.read_flow_run(flow_run_id).state
    return state.type.value if state and state.is_final() else None


def wait_for(probe: Callable[[], T | None], seconds: float) -> T | None:
    deadline = time.monotonic() + seconds
    while (value := probe()) is None and time.monotonic() < deadline:
        time.sleep(1)
    return value


@pytest.mark.slow  # starts a real Prefect server, then waits for the next minute's cron tick
def test_serve_without_a_server_starts_one_whose_cron_runs_the_flow(
        flow_sandbox: SandboxServer, tmp_path: Path) -> None:
    from crmsync.sandbox.server import free_port

    warehouse, port = tmp_path / "served.duckdb", free_port()
    env = {key: value for key, value in os.environ.items() if key != "PREFECT_API_URL"}
    env.update({**sandbox_environment(flow_sandbox.url), "PREFECT_HOME": str(tmp_path / "prefect"),
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "CRMSYNC_PIPELINES_DIR": str(tmp_path / "pipelines"),
                "FLOW__SYNC_CRON": "* * * * *", "FLOW__SERVER_PORT": str(port), "PREFECT_RUNNER_POLL_FREQUENCY": "2"})
    served = subprocess.Popen([sys.executable, "-m", "crmsync", "serve", "--warehouse", str(warehouse)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        last_runs = wait_for(lambda: finished_runs(warehouse), seconds=300)
    finally:
        served.send_signal(signal.SIGTERM)
        output, _ = served.communicate(timeout=90)
    assert last_runs == {SYNC_FLOW: "ok"}, f"no run on the cron; serve said:\n{output[-3000:]}"
    assert f"Prefect UI at http://127.0.0.1:{port}" in output
    assert not answers(f"http://127.0.0.1:{port}/api/health"), "the local Prefect server outlived serve"


def finished_runs(warehouse: Path) -> dict[str, str] | None:
    """The flows' last runs once one is recorded (the warehouse is busy while a run writes)."""
    try:
        return {r["flow"]: r["status"] for r in read_status(warehouse).last_runs} or None
    except Exception:  # noqa: BLE001 - not there yet, or held by the run that is writing it
        return None
