"""`crmsync serve`: both flows as deployments on their configured crons, served from this
process until interrupted. Stopping does not pause the schedules (pause_on_shutdown=False):
the next `crmsync serve`, or a worker, picks them up where they were."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

from prefect import serve
from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron

from crmsync.flows.job import FULL_SCAN_FLOW, SYNC_FLOW, full_scan_flow, sync_flow
from crmsync.flows.prefect_server import prefect_api
from crmsync.flows.settings import FlowSettings, flow_settings


def deployments(warehouse: Path, settings: FlowSettings) -> list[RunnerDeployment]:
    """One deployment per flow, on its cron from the settings."""
    parameters = {"warehouse": str(warehouse.absolute())}
    return [
        sync_flow.to_deployment(name=SYNC_FLOW, parameters=parameters,
                                schedules=[Cron(settings.sync_cron, timezone=settings.timezone)],
                                description="Every few minutes: sync what changed, transform, push."),
        full_scan_flow.to_deployment(name=FULL_SCAN_FLOW, parameters=parameters,
                                     schedules=[Cron(settings.full_scan_cron, timezone=settings.timezone)],
                                     description="Nightly: every full scan forced, so deletions are seen."),
    ]


def serve_forever(warehouse: Path, say: Callable[[str], None] = print) -> None:
    """Blocks until interrupted (Ctrl-C, SIGINT, or SIGTERM, which Prefect's runner handles);
    stopping leaves the schedules active."""
    # A process started in the background of a script inherits SIGINT ignored: `kill -INT`
    # must still stop the server.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    settings = flow_settings()
    log_file = warehouse.parent / f".{warehouse.name}.prefect-server.log"
    with prefect_api(settings.server_port, log_file, settings.server_startup_seconds, say):
        serve(*deployments(warehouse, settings), pause_on_shutdown=False)
