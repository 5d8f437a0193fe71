"""Which sync failures are worth retrying.

`sync_provider` catches every error and reports it as text (so one provider never stops the
others), so a failed ProviderResult is classified by its message, and raw exceptions by
type. Transient: the HTTP layer gave up on a network error, a 5xx, a 429 or a body cut short.
Never transient: refused credentials, a missing setting, a 4xx the API meant, anything else
(a bug or bad data does not heal by waiting).
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from crmsync.kernel.errors import UserError
from crmsync.pipelines.sync import ProviderResult
from crmsync.sources.common.http import AuthError, RequestFailed

TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})
# The messages sources.common.http writes when its own retries ran out on a transient fault.
_GAVE_UP = re.compile(r"failed after \d+ attempts \((status (429|5\d\d)|\w*(Error|Timeout)\w*)\)")
_CUT_SHORT = re.compile(r"kept answering incomplete JSON")
_TRANSPORT = re.compile(r"^(ConnectError|ConnectTimeout|ReadTimeout|ReadError|WriteError|RemoteProtocolError|"
                        r"PoolTimeout|WriteTimeout)\b")


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


def is_transient(error: BaseException | str | None) -> bool:
    if error is None:
        return False
    if isinstance(error, str):
        return bool(_GAVE_UP.search(error) or _CUT_SHORT.search(error) or _TRANSPORT.search(error))
    if isinstance(error, AuthError | UserError):
        return False
    if isinstance(error, RequestFailed):
        return error.status is None and is_transient(str(error)) or error.status in TRANSIENT_STATUS
    if isinstance(error, httpx.HTTPStatusError):
        return error.response.status_code in TRANSIENT_STATUS
    return isinstance(error, httpx.TransportError | TimeoutError | ConnectionError)


def failure_for(provider: str, result: ProviderResult) -> ProviderSyncFailed | None:
    """The exception a failed result raises in its task (None when it succeeded)."""
    if result.status == "ok":
        return None
    kind = TransientSyncFailed if is_transient(result.error) else ProviderSyncFailed
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
