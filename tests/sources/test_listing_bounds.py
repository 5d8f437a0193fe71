"""Every listing stops: a server that repeats its cursor, hands out new cursors forever,
answers the same page again, or answers an envelope of the wrong shape fails that resource
with one line naming the provider, the path and the bound."""

from __future__ import annotations

import functools
import re
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.requests import Request
from starlette.responses import Response

from crmsync.pipelines.sync import ProviderResult, sync_provider
from crmsync.sources.common import http
from crmsync.sources.common.http import ApiClient, Bounds, RequestFailed
from crmsync.sources.common.paging import cursor_pages
from tests.hostile import json_response, serving


class Counting:
    """A handler that counts the requests it answered."""

    def __init__(self, answer: Callable[[Request, int], bytes]) -> None:
        self.answer = answer
        self.requests = 0

    def __call__(self, request: Request) -> Response:
        self.requests += 1
        return json_response(self.answer(request, self.requests))


def same_cursor(request: Request, n: int) -> bytes:
    return b'{"results": [{"user_id": "u%d"}], "next": "again"}' % n


def new_cursors(request: Request, n: int) -> bytes:
    return b'{"results": [%s], "next": "c%d"}' % (b",".join(b'{"user_id": "u%d-%d"}' % (n, i) for i in range(10)), n)


@pytest.fixture()
def sync_at(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., ProviderResult]:
    """sync_provider(provider) with its base_url at a test server and quick retries."""
    monkeypatch.setattr(http, "RetryPolicy", functools.partial(http.RetryPolicy, backoff_s=0.001))
    monkeypatch.setenv("CRMSYNC_PIPELINES_DIR", str(tmp_path / "pipelines"))

    def sync(provider: str, url: str, **settings: str) -> ProviderResult:
        for key, value in {"base_url": url, "api_key": "key", "requests_per_second": "0", **settings}.items():
            monkeypatch.setenv(f"SOURCES__{provider.upper()}__{key.upper()}", value)
        return sync_provider(provider, tmp_path / "w.duckdb")

    return sync


def one_line(result: ProviderResult, pattern: str) -> None:
    assert result.status == "failed" and not result.transient
    assert re.fullmatch(pattern, result.error or ""), result.error


def test_a_repeated_cursor_fails_the_listing(sync_at) -> None:
    server = Counting(same_cursor)
    with serving(server) as url:
        result = sync_at("chatman", url)
    one_line(result, r"chatman: GET /\S+ handed out the cursor of an earlier page again \(after page 2\): "
                     r"stopped, the listing would not end")
    assert server.requests < 20


def test_new_cursors_forever_stop_at_max_pages(sync_at) -> None:
    server = Counting(new_cursors)
    with serving(server) as url:
        result = sync_at("chatman", url, max_pages="5")
    one_line(result, r"chatman: GET /\S+ went past sources\.chatman\.max_pages \(5 pages\): "
                     r"stopped, the listing would not end")
    assert server.requests < 40  # a handful of listings, each stopped after its sixth page


def test_new_cursors_forever_stop_at_max_records(sync_at) -> None:
    with serving(Counting(new_cursors)) as url:
        result = sync_at("chatman", url, max_records="25")
    one_line(result, r"chatman: GET /\S+ went past sources\.chatman\.max_records \(25 records, at page 3\): "
                     r"stopped, the listing would not end")


def test_a_numbered_listing_answering_the_same_page_fails(sync_at) -> None:
    """Whautomate pages by number until an empty page: a server ignoring `page` never ends."""
    with serving(lambda request: json_response(b'[{"id": "a"}, {"id": "b"}]')) as url:
        result = sync_at("whautomate", url)
    one_line(result, r"whautomate: GET /\S+ answered page 2 identical to the one before: "
                     r"stopped, the listing would not end")


def test_bounds_are_checked_settings(sync_at) -> None:
    result = sync_at("chatman", "http://127.0.0.1:1", max_pages="0")
    assert result.status == "failed" and result.error.startswith(
        "chatman: setting sources.chatman.max_pages must be at least 1, not 0"), result.error


@pytest.mark.parametrize(("body", "found"), [
    (b'[{"user_id": "a"}]', "a JSON list"),
    (b'{"results": {"user_id": "a"}, "next": null}', "'results' as dict, 'next' as NoneType"),
    (b'{"results": [], "next": {"after": 2}}', "'results' as list, 'next' as dict"),
])
def test_an_envelope_of_the_wrong_shape_is_one_clear_line(body: bytes, found: str) -> None:
    with serving(lambda request: json_response(body)) as url:
        api = ApiClient("chatman", url, auth_setting="api_key", bounds=Bounds())
        with pytest.raises(RequestFailed) as failure:
            list(cursor_pages(api, "/contacts/", {}))
    assert str(failure.value) == (f"chatman: GET /contacts/ page 1 answered {found}; expected an object "
                                  f"with a 'results' list and a 'next' cursor")


@pytest.mark.slow  # the bounds that stop an endless listing are in make test above
def test_memory_stays_flat_while_an_endless_listing_is_read() -> None:
    """Pages are handed on, not kept: reading 1,500 pages of 100 records holds about what
    reading 150 does (only the previous page and the cursors seen are remembered)."""
    def page(request: Request, n: int) -> bytes:
        records = b",".join(b'{"user_id": "u%d-%d", "note": "%s"}' % (n, i, b"x" * 200) for i in range(100))
        return b'{"results": [%s], "next": "c%d"}' % (records, n)

    with serving(Counting(page)) as url:
        api = ApiClient("demo", url, auth_setting="api_key", bounds=Bounds(max_pages=1_500))
        peaks = []
        tracemalloc.start()
        try:
            with pytest.raises(RequestFailed, match="max_pages"):
                for pages, _ in enumerate(cursor_pages(api, "/contacts/", {}), start=1):
                    if pages in (150, 1_499):
                        peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
            api.close()
    assert peaks[1] - peaks[0] < 2_000_000, f"memory grew {peaks[1] - peaks[0]:,} bytes over 1,350 pages"
