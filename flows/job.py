"""The flows: sync every provider → transform → push, under the overlap guard, leaving an
artifact and ops.sync_runs rows. The flows only compose the plain functions of this package.

Two flows run the same job on their own schedules: `crmsync-sync` (incremental) and
`crmsync-full-scan` (forces every full scan, so deletions are seen).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crmsync.flows import ops
from crmsync.flows.alert_memory import due, remember, sent_before
from crmsync.flows.alerts import RESOLVED, Alert, alert_settings, check, notify
from crmsync.flows.dlt_logging import dlt_logs_to
from crmsync.flows.retry import ProviderSyncFailed, retry_condition
from crmsync.flows.settings import FlowSettings, flow_settings
from crmsync.flows.status import read_status
from crmsync.flows.steps import (
    PushFailed,
    TransformFailed,
    push_task,
    sync_task,
    transform_task,
)
from crmsync.flows.summary import (
    FAILED,
    PARTIAL,
    SKIPPED,
    RunSummary,
    StepOutcome,
    artifact_markdown,
    push_figures,
    run_markdown,
    run_state,
    segment_figures,
    table_rows,
)
from crmsync.kernel.errors import UserError
from crmsync.kernel.overlap import RunInProgress, acquire, release
from crmsync.kernel.lake import Lake
from crmsync.kernel.warehouse import Warehouse, parse_warehouse
from crmsync.kernel.warehouse import session as warehouse_session
from crmsync.pipelines.sync import ProviderResult
from crmsync.sources import registry
from crmsync.transforms.runner import DEFAULT_ROOT
from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.context import get_run_context
from prefect.futures import PrefectFuture
from prefect.states import Completed, Failed, State

SYNC_FLOW = "crmsync-sync"
FULL_SCAN_FLOW = "crmsync-full-scan"
PROVIDER_FLOW = "crmsync-provider"  # a lake: one provider's sync (flows/lake.py)
TRANSFORM_PUSH_FLOW = "crmsync-transform-push"  # a lake: transform and push what is loaded
ARTIFACT_KEY = "crmsync-run"
SUMMARY_KEY = "crmsync-run-summary"


def outcome(future: PrefectFuture) -> Any:
    """The task's return value, or the exception it finally failed with."""
    future.wait()
    return future.state.result(raise_on_failure=False)


def sync_all(providers: list[str], warehouse: Path, settings: FlowSettings,
             full_scan: bool = False) -> dict[str, ProviderResult]:
    """Each provider's task, wave by wave (registry.sync_waves); a failure is kept as the
    provider's result and the next provider still runs."""
    task = sync_task.with_options(retries=settings.retries, retry_delay_seconds=settings.retry_delay_seconds,
                                  retry_condition_fn=retry_condition)
    results: dict[str, ProviderResult] = {}
    with warehouse_session(warehouse):
        for wave in registry.sync_waves(providers):
            futures = {p: task.submit(p, warehouse, full_scan) for p in wave}
            for provider, future in futures.items():
                value = outcome(future)
                if isinstance(value, ProviderSyncFailed):
                    value = value.result
                elif isinstance(value, BaseException):  # the task crashed outside sync_provider
                    value = ProviderResult(status="failed", error=f"{type(value).__name__}: {value}")
                results[provider] = value
    return {p: results[p] for p in providers}  # the order asked, whatever order they finished in


def transform_step(summary: RunSummary, warehouse: Path, root: Path, settings: FlowSettings) -> None:
    # A provider whose optional resource failed (partial) loaded its contacts and the rest:
    # the model builds on it, that resource's tables as of their last good run.
    failed = [p for p, r in summary.providers.items() if r.status == "failed"]
    nothing_synced = all(r.status == "failed" for r in summary.providers.values())
    if failed and (nothing_synced or not settings.transform_on_partial_sync):
        summary.transform = StepOutcome("skipped", f"sync failed for {', '.join(failed)}"
                                        + ("" if settings.transform_on_partial_sync
                                           else " (flow.transform_on_partial_sync is off)"))
        return
    value = outcome(transform_task.submit(warehouse, root))
    if isinstance(value, TransformFailed):
        summary.transform = StepOutcome("failed", str(value))
    elif isinstance(value, BaseException):
        summary.transform = StepOutcome("failed", f"{type(value).__name__}: {value}")
    else:
        summary.transform = StepOutcome("ok")
        summary.segments = segment_figures(value.segments)


def push_step(summary: RunSummary, warehouse: Path, root: Path, enabled: bool) -> None:
    if not enabled:
        summary.push = StepOutcome("skipped", "--no-push")
        return
    if summary.transform.status != "ok":
        summary.push = StepOutcome("skipped", f"transform {summary.transform.status}")
        return
    value = outcome(push_task.submit(warehouse, root))
    result = value.result if isinstance(value, PushFailed) else None if isinstance(value, BaseException) else value
    if result is not None:
        summary.pushes = push_figures(result)
    if isinstance(value, BaseException):
        summary.push = StepOutcome("failed", str(value))
    else:
        summary.push = StepOutcome("ok")


def publish(summary: RunSummary, logger: logging.LoggerAdapter | logging.Logger) -> None:
    """The artifacts a person reads in the UI, the run's page and its table of every figure;
    a failure to publish never fails the run."""
    try:
        create_markdown_artifact(markdown=run_markdown(summary), key=SUMMARY_KEY, description=artifact_markdown(summary))
        create_table_artifact(table=table_rows(summary), key=ARTIFACT_KEY, description=artifact_markdown(summary))
    except Exception as error:  # noqa: BLE001
        logger.warning("could not create the run artifact: %s", error)


def run_job(flow_name: str, warehouse: Warehouse, push_enabled: bool = True, providers: list[str] | None = None,
            transforms: Path | None = None, full_scan: bool = False, sync: bool = True,
            transform: bool = True) -> RunSummary:
    """The whole job once, as the body of a flow run; on a lake, a provider's own flow syncs
    only (`transform=False`) and the transform-and-push flow builds on what is loaded
    (`sync=False`), each holding its own part of the lake (a DuckDB file: all of it)."""
    logger = get_run_logger()
    settings = flow_settings()
    context = get_run_context()
    summary = RunSummary(run_id=str(context.flow_run.id), flow=flow_name, started_at=datetime.now(UTC))
    if isinstance(warehouse, Lake):
        warehouse = warehouse.scoped("-".join([flow_name, *(providers or [])]))
    try:
        owner = acquire(warehouse, flow_name)
    except RunInProgress as busy:
        # Not written to ops.sync_runs: the running job holds the warehouse's one writer.
        summary.state, summary.reason, summary.finished_at = SKIPPED, str(busy), datetime.now(UTC)
        logger.warning("skipped: %s", busy)
        publish(summary, logger)
        return summary
    try:
        root = transforms or DEFAULT_ROOT
        with dlt_logs_to(logger):
            if sync:
                summary.providers = sync_all(providers or list(registry.names()), warehouse, settings, full_scan)
            if transform:
                transform_step(summary, warehouse, root, settings)
                push_step(summary, warehouse, root, push_enabled)
            else:
                summary.transform = summary.push = StepOutcome("skipped", f"{TRANSFORM_PUSH_FLOW} builds and pushes")
        summary.state, summary.reason = run_state(summary)
        summary.finished_at = datetime.now(UTC)
        ops.write_sync_run(warehouse, summary)
        log_verdict(summary, logger)
        alert(warehouse, logger)  # while the run holds the warehouse: it records what it sent
    finally:
        release(warehouse, owner)
    publish(summary, logger)
    return summary


def alert(warehouse: Warehouse, logger: logging.LoggerAdapter | logging.Logger) -> None:
    """What needs a person in the warehouse after this run (flows/alerts.py), logged and sent
    to `alerts.urls` when new, due again or resolved (flows/alert_memory.py); checking or
    sending never fails the run."""
    now = datetime.now(UTC)
    try:
        settings = alert_settings()
        found = check(read_status(warehouse), settings, now)
        previous = sent_before(warehouse) if settings.urls else {}
    except Exception as error:  # noqa: BLE001
        logger.warning("alerts: could not check the warehouse: %s", error)
        return
    sending = due(found, previous, settings.repeat_hours, now)
    for problem in sending:
        logger.info("alert [%s] %s", problem.monitor, problem.text)
    held_back = len(found) - sum(a.monitor != RESOLVED for a in sending)
    if held_back:
        logger.info("alerts: %s more still true, sent before (again after alerts.repeat_hours %g)", held_back,
                    settings.repeat_hours)
    if not settings.urls or not notify(sending, settings, str(warehouse)):
        return
    try:
        remember(warehouse, sending, found, previous, now)
    except Exception as error:  # noqa: BLE001
        logger.warning("alerts: could not record what was sent: %s", error)
        return
    if sending:
        logger.info("alerts: %s sent to %s URL(s)", len(sending), len(settings.urls))


def job(flow_name: str, warehouse: str, push: bool, providers: list[str] | None, transforms: str | None,
        **steps: bool) -> State:
    """A flow's body: the job (`steps`: run_job's full_scan, sync, transform), its final
    state; a crash outside the steps notifies too."""
    try:
        return final_state(run_job(flow_name, parse_warehouse(warehouse), push, providers,
                                   Path(transforms) if transforms else None, **steps))
    except Exception as error:
        alert_crash(flow_name, warehouse, error)
        raise


def alert_crash(flow_name: str, warehouse: str, error: Exception) -> None:
    try:
        settings = alert_settings()
    except UserError as problem:  # the crash stays what the run reports
        get_run_logger().warning("alerts: %s", problem)
        return
    notify([Alert("run", f"{flow_name} run crashed: {type(error).__name__}: {error}", flow_name)], settings,
           str(warehouse))


def log_verdict(summary: RunSummary, logger: logging.LoggerAdapter | logging.Logger) -> None:
    totals = summary.push_totals()
    rows = sum(sum(r.rows.values()) for r in summary.providers.values())
    level = logging.INFO if summary.state not in (FAILED, PARTIAL) else logging.ERROR
    logger.log(level, "%s: %s rows loaded; transform %s; push %s (+%s -%s, held %s, rejected %s)%s",
               summary.state, rows, summary.transform.status, summary.push.status, totals["added"],
               totals["removed"], totals["held"], totals["rejected"],
               f"; {summary.reason}" if summary.reason else "")


def final_state(summary: RunSummary) -> State:
    """Failed when a step failed (a partial sync too), so the UI and its notifications say
    so; the summary is the state's data either way."""
    if summary.state in (FAILED, PARTIAL):
        return Failed(message=f"{summary.state}: {summary.reason}"[:500], data=summary.as_dict())
    return Completed(message=summary.reason, data=summary.as_dict())


@flow(name=SYNC_FLOW, log_prints=True)
def sync_flow(warehouse: str = "crmsync.duckdb", push: bool = True, providers: list[str] | None = None,
              transforms: str | None = None) -> State:
    """Incremental: sync what changed, rebuild the models and segments, push the changes."""
    return job(SYNC_FLOW, warehouse, push, providers, transforms)


@flow(name=FULL_SCAN_FLOW, log_prints=True)
def full_scan_flow(warehouse: str = "crmsync.duckdb", push: bool = True, providers: list[str] | None = None,
                   transforms: str | None = None) -> State:
    """Like crmsync-sync, with every full scan forced: deletions are marked."""
    return job(FULL_SCAN_FLOW, warehouse, push, providers, transforms, full_scan=True)


@flow(name=PROVIDER_FLOW, log_prints=True)
def provider_flow(warehouse: str, provider: str, full_scan: bool = False) -> State:
    """A lake: one provider's sync on its own schedule, beside the others' (flows/DEPLOY.md)."""
    return job(PROVIDER_FLOW, warehouse, False, [provider], None, full_scan=full_scan, transform=False)


@flow(name=TRANSFORM_PUSH_FLOW, log_prints=True)
def transform_push_flow(warehouse: str, push: bool = True, transforms: str | None = None) -> State:
    """A lake: build the models and segments from what the providers' flows loaded, push."""
    return job(TRANSFORM_PUSH_FLOW, warehouse, push, None, transforms, sync=False)
