"""`crmsync serve`: both flows as deployments on their configured crons, served from this
process until interrupted. Stopping does not pause the schedules (pause_on_shutdown=False):
the next `crmsync serve`, or a worker, picks them up where they were."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

from prefect import flow, serve
from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron

from crmsync.flows.job import (
    FULL_SCAN_FLOW,
    PROVIDER_FLOW,
    SYNC_FLOW,
    TRANSFORM_PUSH_FLOW,
    full_scan_flow,
    provider_flow,
    sync_flow,
    transform_push_flow,
)
from crmsync.flows.console import quiet_served_runs
from crmsync.flows.prefect_server import prefect_api
from crmsync.flows.settings import FlowSettings, flow_settings, provider_cron
from crmsync.kernel.lake import Lake
from crmsync.kernel.warehouse import Warehouse
from crmsync.sources import registry


def deployments(warehouse: Warehouse, settings: FlowSettings) -> list[RunnerDeployment]:
    """One deployment per flow, on its cron from the settings; a lake's: see lake_deployments."""
    parameters = {"warehouse": str(warehouse.absolute())}
    if isinstance(warehouse, Lake):
        return lake_deployments(warehouse, settings)
    return [
        sync_flow.to_deployment(name=SYNC_FLOW, parameters=parameters,
                                schedules=[Cron(settings.sync_cron, timezone=settings.timezone)],
                                description="Every few minutes: sync what changed, transform, push."),
        full_scan_flow.to_deployment(name=FULL_SCAN_FLOW, parameters=parameters,
                                     schedules=[Cron(settings.full_scan_cron, timezone=settings.timezone)],
                                     description="Nightly: every full scan forced, so deletions are seen."),
    ]


def lake_deployments(lake: Lake, settings: FlowSettings) -> list[RunnerDeployment]:
    """A lake: a deployment per provider (`crmsync-sync-<provider>`, its own schedule: one slow
    provider no longer holds the others back) and `crmsync-transform-push`, which builds and
    pushes what is loaded. Each provider on `sources.<provider>.sync_cron` (else flow.sync_cron),
    transform-and-push on flow.sync_cron."""
    cron = [Cron(settings.sync_cron, timezone=settings.timezone)]
    return [*(provider_flow.to_deployment(name=f"{SYNC_FLOW}-{provider}",
                                          schedules=[Cron(provider_cron(provider, settings), timezone=settings.timezone)],
                                          parameters={"warehouse": str(lake), "provider": provider},
                                          concurrency_limit=1,  # one provider's sync once at a time
                                          description=f"Sync {provider} into the lake.")
              for provider in registry.names()),
            transform_push_flow.to_deployment(name=TRANSFORM_PUSH_FLOW, schedules=cron,
                                              parameters={"warehouse": str(lake)}, concurrency_limit=1,
                                              description="Build the models and segments from the lake, push.")]


ENTRYPOINTS = {SYNC_FLOW: "flows/job.py:sync_flow", FULL_SCAN_FLOW: "flows/job.py:full_scan_flow",
               PROVIDER_FLOW: "flows/job.py:provider_flow", TRANSFORM_PUSH_FLOW: "flows/job.py:transform_push_flow"}


def deploy_to_pool(warehouse: Warehouse, pool: str, source: Path = Path(__file__).parent.parent) -> list[str]:
    """Register the deployments `crmsync serve` would serve with the Prefect server, to run on
    the work pool `pool` (`prefect worker start --pool <pool>` on each machine). The workers
    load the flows' code from `source` (the folder holding flows/: this installation's)."""
    ids = []
    for deployment in deployments(warehouse, flow_settings()):
        sourced = flow.from_source(source=str(source), entrypoint=ENTRYPOINTS[deployment.flow_name])
        ids.append(str(sourced.deploy(name=deployment.name, work_pool_name=pool, parameters=deployment.parameters,
                                      schedules=deployment.schedules, description=deployment.description,
                                      concurrency_limit=deployment.concurrency_limit,
                                      print_next_steps=False)))
    return ids


def serve_forever(warehouse: Path, say: Callable[[str], None] = print) -> None:
    """Blocks until interrupted (Ctrl-C, SIGINT, or SIGTERM, which Prefect's runner handles);
    stopping leaves the schedules active. `say` tells what is served, in place of Prefect's
    banner; then each run's verdict line, alerts, warnings and errors (flows/console.py)."""
    # A process started in the background of a script inherits SIGINT ignored: `kill -INT`
    # must still stop the server.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    settings = flow_settings()
    log_file = warehouse.parent / f".{warehouse.name}.prefect-server.log"
    served = deployments(warehouse, settings)
    with prefect_api(settings.server_port, log_file, settings.server_startup_seconds, say), quiet_served_runs():
        say("serving " + ", ".join(f"{d.name} ({', '.join(s.schedule.cron for s in d.schedules)})" for d in served)
            + "; one line per run, Ctrl-C stops")
        serve(*served, pause_on_shutdown=False, print_starting_message=False)
