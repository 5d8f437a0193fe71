"""Which sync failures are worth retrying.

`sync_provider` catches every error and reports it as a ProviderResult (so one provider never
stops the others); whether the failure is transient travels with it (`transient`, set from
the exception the HTTP layer raised: it gave up on a network error, a 5xx, a 429 or a body
cut short). Never transient: refused credentials, a missing setting, a 4xx the API meant,
anything else (a bug or bad data does not heal by waiting).
"""

from __future__ import annotations

from typing import Any

from crmsync.pipelines.sync import ProviderResult


class ProviderSyncFailed(Exception):
    """A provider's sync failed; carries its result so the run can still report it."""

    def __init__(self, provider: str, result: ProviderResult) -> None:
        super().__init__(named(provider, result.error))
        self.provider = provider
        self.result = result


class TransientSyncFailed(ProviderSyncFailed):
    """A failure a later attempt may not see: the task is retried."""


def named(provider: str, error: str | None) -> str:
    """The error with its provider in front, once (most errors name their provider already)."""
    text = error or "failed"
    return text if text.startswith(provider) else f"{provider}: {text}"


def failure_for(provider: str, result: ProviderResult) -> ProviderSyncFailed | None:
    """The exception a failed result raises in its task (None when it succeeded)."""
    if result.status == "ok":
        return None
    kind = TransientSyncFailed if result.transient else ProviderSyncFailed
    return kind(provider, result)


def retry_condition(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect's retry_condition_fn: retry only what raised TransientSyncFailed."""
    try:
        state.result()
    except TransientSyncFailed:
        return True
    except BaseException:  # noqa: BLE001 - anything else is final
        return False
    return False
