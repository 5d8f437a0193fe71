"""Retry classification: transient faults only; never credentials, settings or data."""

from __future__ import annotations

import httpx
import pytest
from prefect.states import Completed, Failed

from crmsync.flows.retry import ProviderSyncFailed, TransientSyncFailed, failure_for, is_transient, retry_condition
from crmsync.pipelines.sync import ProviderResult
from crmsync.sources.common.http import AuthError, RequestFailed


@pytest.mark.parametrize("message", [
    "chatman: GET /contacts failed after 8 attempts (status 503)",
    "whautomate: GET /contacts failed after 8 attempts (status 429)",
    "waabot: GET /contact failed after 8 attempts (ConnectError); check sources.waabot.base_url",
    "dmchamp: GET /lookup failed after 8 attempts (ReadTimeout)",
    "chatrace: GET /x kept answering incomplete JSON",
    "ConnectError: [Errno 111] Connection refused",
])
def test_transient_messages(message: str) -> None:
    assert is_transient(message)


@pytest.mark.parametrize("message", [
    "chatman: the API refused the credentials (401); check sources.chatman.api_key",
    "chatman: missing setting sources.chatman.base_url",
    "chatman: GET /contacts answered 400: bad mode",
    "KeyError: 'id'",
    None,
])
def test_final_messages(message: str | None) -> None:
    assert not is_transient(message)


def test_exceptions_by_type() -> None:
    request = httpx.Request("GET", "http://x")
    assert is_transient(RequestFailed("x failed after 8 attempts (status 502)"))
    assert is_transient(RequestFailed("answered 503", 503))
    assert is_transient(httpx.ConnectError("refused", request=request))
    assert not is_transient(RequestFailed("answered 404", 404))
    assert not is_transient(AuthError("chatman: the API refused the credentials (401)"))
    assert not is_transient(ValueError("bad data"))


def test_failure_for_picks_the_kind() -> None:
    assert failure_for("a", ProviderResult()) is None
    transient = failure_for("a", ProviderResult("failed", "a: GET / failed after 8 attempts (status 500)"))
    final = failure_for("a", ProviderResult("failed", "a: the API refused the credentials (403)"))
    assert isinstance(transient, TransientSyncFailed)
    assert type(final) is ProviderSyncFailed and final.result.error.endswith("(403)")


def test_retry_condition_reads_the_failed_state() -> None:
    result = ProviderResult("failed", "x")
    assert retry_condition(None, None, Failed(data=TransientSyncFailed("a", result)))
    assert not retry_condition(None, None, Failed(data=ProviderSyncFailed("a", result)))
    assert not retry_condition(None, None, Completed(data=1))
