"""The flow's tasks: one per provider sync, transform, push. Each raises when its step
failed, so the Prefect UI shows the failed step; the exception carries the step's result so
the run can still report its figures."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from prefect import task

from crmsync.environment import temporary_environment
from crmsync.errors import UserError
from pipelines.push import PushResult, push
from pipelines.sync import ProviderResult, sync_provider
from flows.retry import failure_for
from transforms.runner import TransformResult, run_transforms

# Chatrace and DM Champ find contacts by looking up the people the others loaded: each runs
# after everything before it in this order (the rest can be listed, and could run side by side).
LOOKUP_ORDER = ("chatrace", "dmchamp")
# Measured (2,000-person sandbox): the three listable providers side by side took 4.5 s
# against 5.0 s one by one, and side by side they collide in the one warehouse file:
# sync_provider's mark_deleted opens DuckDB with another configuration than dlt's open
# loader connection ("Can't open a connection to same database file with a different
# configuration"), failing a provider at random. Extract and load are one call in
# sync_provider, so a lock cannot cover the load alone: the providers run one at a time,
# each still its own task (own state, retries, failure isolated), in dependency order.
PARALLEL_LOADS_SAFE = False
# A full-scan run forces the scans that are otherwise spaced out by the hour settings, so
# deletions and comment edits are seen on schedule. Others list everything on every run.
FULL_SCAN_ENV = {"SOURCES__CHATMAN__FULL_SCAN_HOURS": "0", "SOURCES__CHATRACE__COMMENTS_FULL_REFRESH_HOURS": "0"}


class TransformFailed(Exception):
    def __init__(self, result: TransformResult | None, reason: str) -> None:
        super().__init__(reason)
        self.result = result


class PushFailed(Exception):
    def __init__(self, result: PushResult | None, reason: str) -> None:
        super().__init__(reason)
        self.result = result


def sync_waves(providers: list[str], parallel: bool) -> list[list[str]]:
    """The providers in the order they may run: the listable ones together (or one by one
    when not `parallel`), then each lookup provider alone, in PROVIDERS order."""
    listable = [p for p in providers if p not in LOOKUP_ORDER]
    lookups = [[p] for p in LOOKUP_ORDER if p in providers]
    first = ([listable] if parallel else [[p] for p in listable]) if listable else []
    return first + lookups


@contextmanager
def full_scan_environment(enabled: bool) -> Iterator[None]:
    """Apply FULL_SCAN_ENV for the run (a served run is its own process, so this is local)."""
    if not enabled:
        yield
        return
    with temporary_environment(FULL_SCAN_ENV):
        yield


@task(name="sync", task_run_name="sync {provider}")
def sync_task(provider: str, warehouse: Path) -> ProviderResult:
    result = sync_provider(provider, warehouse)
    failure = failure_for(provider, result)
    if failure is not None:
        raise failure
    return result


@task(name="transform")
def transform_task(warehouse: Path, root: Path) -> TransformResult:
    """Never retried: a failed data test fails the same way until the data changes."""
    try:
        result = run_transforms(warehouse, root, None, datetime.now(UTC))
    except UserError as error:
        raise TransformFailed(None, str(error)) from error
    if result.status != "ok":
        raise TransformFailed(result, result.error or "failed")
    return result


@task(name="push")
def push_task(warehouse: Path, root: Path) -> PushResult:
    """Not retried as a whole: push resumes by itself on the next run, and it records what
    the providers confirmed as it goes."""
    try:
        result = push(warehouse, transforms_root=root)
    except UserError as error:
        raise PushFailed(None, str(error)) from error
    if result.status != "ok":
        raise PushFailed(result, "a provider or target failed")
    return result
