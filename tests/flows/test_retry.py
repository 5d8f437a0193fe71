"""Retry classification: whether a failure is transient is carried by the exception the HTTP
layer raises and by the ProviderResult made from it, never read from a message. Transient:
5xx, 429, a network error, a body cut short. Final: credentials, settings, a 4xx the API
meant, a body that is whole but wrong, a bug."""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import dlt
import httpx
import pytest
from prefect.states import Completed, Failed

from crmsync.flows.retry import ProviderSyncFailed, TransientSyncFailed, failure_for, retry_condition
from crmsync.pipelines.sync import ProviderResult, sync_provider
from crmsync.sandbox.server import free_port
from crmsync.sources import registry
from crmsync.sources.common import http
from crmsync.sources.common.config import ConfigError
from crmsync.sources.common.http import ApiClient, AuthError, RequestFailed, RetryPolicy, is_transient
from tests.hostile import json_response, serving


def client(url: str) -> ApiClient:
    return ApiClient("demo", url, auth_setting="api_key", retry=RetryPolicy(attempts=3, backoff_s=0.001))


def failure_of(url: str) -> BaseException:
    with pytest.raises(Exception) as failure:
        client(url).get_json("/x")
    return failure.value


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_giving_up_on_a_server_fault_is_transient(status: int) -> None:
    with serving(lambda request: json_response(b"{}", status, **{"Retry-After": "0"})) as url:
        error = failure_of(url)
    assert isinstance(error, RequestFailed) and error.transient and is_transient(error)


def test_giving_up_on_the_network_is_transient() -> None:
    error = failure_of(f"http://127.0.0.1:{free_port()}")  # nobody listens there
    assert isinstance(error, RequestFailed) and error.transient
    assert is_transient(httpx.ConnectError("refused"))  # one that escaped the client


def test_a_body_cut_short_every_time_is_transient() -> None:
    with serving(lambda request: json_response(b'{"results": [{"id": 1}, {"id"')) as url:
        error = failure_of(url)
    assert isinstance(error, RequestFailed) and error.transient


@pytest.mark.parametrize("status", [400, 404, 409, 422])
def test_a_4xx_the_api_meant_is_final(status: int) -> None:
    with serving(lambda request: json_response(b'{"error": "no"}', status)) as url:
        error = failure_of(url)
    assert isinstance(error, RequestFailed) and error.status == status and not is_transient(error)


def test_refused_credentials_settings_and_bugs_are_final() -> None:
    with serving(lambda request: json_response(b"{}", 401)) as url:
        refused = failure_of(url)
    assert isinstance(refused, AuthError) and not is_transient(refused)
    for error in (ConfigError("demo: missing setting sources.demo.api_key"), KeyError("id"), ValueError("bad")):
        assert not is_transient(error)


@pytest.fixture()
def whautomate_at(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Point Whautomate at a URL, with quick retries; answers sync_provider's result."""
    monkeypatch.setattr(http, "RetryPolicy", functools.partial(RetryPolicy, backoff_s=0.001, backoff_max_s=0.01))
    monkeypatch.setenv("CRMSYNC_PIPELINES_DIR", str(tmp_path / "pipelines"))
    monkeypatch.setenv("SOURCES__WHAUTOMATE__API_KEY", "key")
    monkeypatch.setenv("SOURCES__WHAUTOMATE__REQUESTS_PER_SECOND", "0")

    def sync(url: str) -> ProviderResult:
        monkeypatch.setenv("SOURCES__WHAUTOMATE__BASE_URL", url)
        return sync_provider("whautomate", tmp_path / "w.duckdb")

    return sync


@pytest.mark.parametrize(("status", "transient"), [(503, True), (429, True), (400, False), (401, False)])
def test_a_sync_result_carries_whether_its_failure_is_transient(whautomate_at, status: int,
                                                                 transient: bool) -> None:
    """The HTTP layer's failure, raised inside dlt's extract and wrapped by it, reaches the
    result with its kind."""
    with serving(lambda request: json_response(b"{}", status, **{"Retry-After": "0"})) as url:
        result = whautomate_at(url)
    assert result.status == "failed" and result.transient is transient, result.error


def test_a_missing_setting_or_a_bug_in_a_source_is_final(whautomate_at, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCES__WHAUTOMATE__API_KEY")
    missing = whautomate_at("http://127.0.0.1:1")
    assert missing.status == "failed" and "api_key" in missing.error and not missing.transient
    monkeypatch.setenv("SOURCES__WHAUTOMATE__API_KEY", "key")

    @dlt.source(name="whautomate")
    def broken(settings: object, run: object):
        @dlt.resource(name="contacts")
        def contacts():
            yield {"id": 1}
            raise KeyError("id")

        return contacts

    described = registry.provider("whautomate")
    monkeypatch.setattr(registry, "provider", lambda name: dataclasses.replace(described, build_source=broken))
    bug = whautomate_at("http://127.0.0.1:1")
    assert bug.status == "failed" and bug.error == "KeyError: 'id'" and not bug.transient


def test_failure_for_picks_the_kind_from_the_result() -> None:
    assert failure_for("a", ProviderResult()) is None
    transient = failure_for("a", ProviderResult("failed", "a: whatever it says", transient=True))
    final = failure_for("a", ProviderResult("failed", "a: GET / failed after 8 attempts (status 500)"))
    assert isinstance(transient, TransientSyncFailed)
    assert type(final) is ProviderSyncFailed and final.result.error.endswith("(status 500)")


def test_retry_condition_reads_the_failed_state() -> None:
    result = ProviderResult("failed", "x")
    assert retry_condition(None, None, Failed(data=TransientSyncFailed("a", result)))
    assert not retry_condition(None, None, Failed(data=ProviderSyncFailed("a", result)))
    assert not retry_condition(None, None, Completed(data=1))
