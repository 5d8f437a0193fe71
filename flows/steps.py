"""The flow's tasks: one per provider sync, transform, push. Each raises when its step
failed, so the Prefect UI shows the failed step; the exception carries the step's result so
the run can still report its figures. Task runs are named `sync-<provider>`, `transform`
and `push`, and each tells the process's progress listener (flows/progress.py) when it
begins and how it ended, by that name."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from crmsync.flows.progress import listener
from crmsync.flows.retry import failure_for
from crmsync.kernel.errors import UserError
from crmsync.pipelines.push import PushResult, push
from crmsync.pipelines.sync import ProviderResult, sync_provider
from crmsync.transforms.runner import TransformResult, run_transforms
from prefect import task


class TransformFailed(Exception):
    def __init__(self, result: TransformResult | None, reason: str) -> None:
        super().__init__(reason)
        self.result = result


class PushFailed(Exception):
    def __init__(self, result: PushResult | None, reason: str) -> None:
        super().__init__(reason)
        self.result = result


def begin(task: str) -> None:
    progress = listener()
    if progress is not None:
        progress.begin(task)


def end(task: str, outcome: str) -> None:
    progress = listener()
    if progress is not None:
        progress.end(task, outcome)


@task(name="sync", task_run_name="sync-{provider}")
def sync_task(provider: str, warehouse: Path, full_scan: bool = False) -> ProviderResult:
    progress = listener()
    begin(f"sync-{provider}")
    result = sync_provider(provider, warehouse, full_scan=full_scan, progress=progress.rows if progress else None)
    loaded = f"{sum(result.rows.values()):,} rows loaded in {result.seconds:.1f}s"
    end(f"sync-{provider}", {"ok": f"ok, {loaded}", "partial": f"partial, {loaded}: {result.error}"}.get(
        result.status, f"failed: {result.error}"))
    failure = failure_for(provider, result)
    if failure is not None:
        raise failure
    return result


@task(name="transform", task_run_name="transform")
def transform_task(warehouse: Path, root: Path) -> TransformResult:
    """Never retried: a failed data test fails the same way until the data changes."""
    begin("transform")
    try:
        result = run_transforms(warehouse, root, None, datetime.now(UTC))
    except UserError as error:
        end("transform", f"failed: {error}")
        raise TransformFailed(None, str(error)) from error
    end("transform", f"ok, {len(result.models)} models and {len(result.segments)} segments in {result.seconds:.1f}s"
        if result.status == "ok" else f"failed: {result.error}")
    if result.status != "ok":
        raise TransformFailed(result, result.error or "failed")
    return result


@task(name="push", task_run_name="push")
def push_task(warehouse: Path, root: Path) -> PushResult:
    """Not retried as a whole: push resumes by itself on the next run, and it records what
    the providers confirmed as it goes."""
    progress = listener()
    begin("push")
    try:
        result = push(warehouse, transforms_root=root, progress=progress.members if progress else None)
    except UserError as error:
        end("push", f"failed: {error}")
        raise PushFailed(None, str(error)) from error
    end("push", f"{result.status}, +{result.total('added'):,} -{result.total('removed'):,}, "
                f"held {result.total('held'):,}, rejected {result.total('rejected'):,} in {result.seconds:.1f}s")
    if result.status != "ok":
        raise PushFailed(result, "a provider or target failed")
    return result
