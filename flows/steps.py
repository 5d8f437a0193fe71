"""The flow's tasks: one per provider sync, transform, push. Each raises when its step
failed, so the Prefect UI shows the failed step; the exception carries the step's result so
the run can still report its figures."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from prefect import task

from crmsync.kernel.environment import temporary_environment
from crmsync.kernel.errors import UserError
from crmsync.pipelines.push import PushResult, push
from crmsync.pipelines.sync import ProviderResult, sync_provider
from crmsync.flows.retry import failure_for
from crmsync.transforms.runner import TransformResult, run_transforms

# Chatrace and DM Champ find contacts by looking up the people the others loaded: each runs
# after everything before it in this order. The listable providers run side by side (their
# sync-side warehouse connections share dlt's configuration: sources/common/warehouse.py).
LOOKUP_ORDER = ("chatrace", "dmchamp")
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


def sync_waves(providers: list[str]) -> list[list[str]]:
    """The providers in the order they may run: the listable ones together, then each lookup
    provider alone, in PROVIDERS order."""
    listable = [p for p in providers if p not in LOOKUP_ORDER]
    lookups = [[p] for p in LOOKUP_ORDER if p in providers]
    first = [listable] if listable else []
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
