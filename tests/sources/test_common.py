"""The shared source machinery on its own: shapes, cursors, phones, the HTTP client."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import httpx
import pyarrow as pa
import pytest

from crmsync.sources.common.cursor import Cursor
from crmsync.sources.common.http import ApiClient, AuthError, RateLimiter, RequestFailed, RetryPolicy
from crmsync.kernel.phones import to_e164
from crmsync.sources.common.records import JSON_TEXT, Column, Shape
from crmsync.sources.common.resources import tables

COLUMNS = (
    Column("id", pa.int64()),
    Column("name", pa.string(), ("profile", "name")),
    Column("score", pa.int64()),
    Column("seen", pa.string(), time_format="iso"),
    Column("extra", JSON_TEXT),
)


def test_shape_keeps_types_and_counts_what_does_not_fit() -> None:
    shape = Shape(COLUMNS)
    table = shape.table([
        {"id": 1, "profile": {"name": "A", "city": "Lagos"}, "score": 5, "seen": "2026-01-01T00:00:00Z",
         "extra": {"k": 1}, "newField": [1, 2]},
        {"id": 2, "profile": None, "score": "lots", "seen": "yesterday"},
    ])
    assert table.schema.field("score").type == pa.int64()
    assert table.column("score").to_pylist() == [5, None]
    assert table.column("seen").to_pylist()[1] is None
    assert [json_value(v) for v in table.column("extra").to_pylist()] == [{"k": 1}, None]
    assert [json_value(v) for v in table.column("new_field").to_pylist()] == [[1, 2], None]
    assert table.column("profile__city").to_pylist() == ["Lagos", None]
    assert shape.problems == {"score: unreadable value": 1, "seen: unreadable value": 1}


def test_a_clean_page_reads_as_a_page_that_falls_back_column_by_column() -> None:
    clean = [{"id": 1, "profile": {"name": "A"}, "score": 5, "seen": "2026-01-01T00:00:00Z", "extra": [1]},
             {"id": 2, "profile": None, "seen": None, "extra": {"b": 1, "a": None}},
             {"id": 3, "profile": {}, "score": None}]
    dirty = clean + [{"id": 4, "score": "lots"}]  # one value that does not fit: no struct pass
    shape = Shape(COLUMNS)
    fast, slow = shape.table(clean), shape.table(dirty)
    assert fast.schema == slow.schema
    assert fast.to_pylist() == slow.slice(0, len(clean)).to_pylist()
    assert fast.column("name").to_pylist() == ["A", None, None]
    assert shape.problems == {"score: unreadable value": 1}


def test_pages_joined_into_one_item_keep_a_field_only_one_page_had() -> None:
    pages = [[{"id": 1, "score": 1}], [{"id": 2, "newField": "x"}], [{"id": 3}]]
    joined = list(tables(pages, Shape(COLUMNS), "id", batch_rows=2))
    assert [t.num_rows for t in joined] == [2, 1]
    assert joined[0].column("new_field").to_pylist() == [None, "x"]
    assert joined[0].column("id").to_pylist() == [1, 2]


def test_rows_fingerprinted_before_a_page_fails_are_still_yielded() -> None:
    """A resource that fails alone keeps its fingerprints: the rows they count must load."""

    def pages() -> Iterator[list[dict]]:
        yield [{"id": 1}, {"id": 2}]
        raise RequestFailed("GET /segments page 2 answered 404")

    fingerprints: dict[str, str] = {}
    got = tables(pages(), Shape(COLUMNS), "id", fingerprints=fingerprints, batch_rows=1000)
    assert next(got).column("id").to_pylist() == [1, 2]
    with pytest.raises(RequestFailed):
        next(got)
    assert set(fingerprints) == {"1", "2"}


def json_value(text: str | None) -> object:
    return None if text is None else json.loads(text)


def test_shape_never_lets_an_undeclared_field_overwrite_a_column() -> None:
    table = Shape((Column("user_id", pa.string(), ("id",)),)).table([{"id": "a", "userId": "b"}])
    assert table.column("user_id").to_pylist() == ["a"]
    assert table.column("user_id_extra").to_pylist() == ["b"]


def _page(rows: list[tuple[str, datetime]]) -> pa.Table:
    return pa.table({"id": [r[0] for r in rows],
                     "at": pa.array([r[1] for r in rows], pa.timestamp("us", tz="UTC"))})


def test_cursor_loads_nothing_twice_and_catches_late_writes() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    state: dict = {}
    first = Cursor(state, "id", "at", timedelta(minutes=5))
    assert first.start is None
    assert first.new_rows(_page([("a", t0), ("b", t0 + timedelta(minutes=10))])).num_rows == 2
    first.commit()
    second = Cursor(state, "id", "at", timedelta(minutes=5))
    assert second.start == t0 + timedelta(minutes=5)
    page = _page([("b", t0 + timedelta(minutes=10)), ("late", t0 + timedelta(minutes=7)),
                  ("old", t0 - timedelta(days=1))])
    assert second.new_rows(page).column("id").to_pylist() == ["late"]


def test_cursor_judges_a_whole_scan_against_where_the_run_started() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    state = {"newest": t0.isoformat(), "recent": {}}
    cursor = Cursor(state, "id", "at", timedelta(0))
    assert cursor.new_rows(_page([("new", t0 + timedelta(hours=5))])).num_rows == 1
    # An unordered scan: a row changed an hour after the old cursor comes after a newer one.
    assert cursor.new_rows(_page([("mid", t0 + timedelta(hours=1))])).num_rows == 1
    assert state["newest"] == t0.isoformat()
    cursor.commit()
    assert state["newest"] == (t0 + timedelta(hours=5)).isoformat()


def test_cursor_remembers_each_recent_row_as_its_iso_text() -> None:
    """What the next run compares rows against: the text `datetime.isoformat` writes (no
    decimals on a whole second, four-digit years), whatever formats it."""
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    stamps = [t0, t0 + timedelta(microseconds=1), t0 + timedelta(seconds=59, microseconds=999_999),
              t0 - timedelta(milliseconds=250)]
    state: dict = {}
    cursor = Cursor(state, "id", "at", timedelta(hours=1))
    cursor.new_rows(_page([(str(n), stamp) for n, stamp in enumerate(stamps)]))
    cursor.commit()
    assert state["recent"] == {str(n): stamp.isoformat() for n, stamp in enumerate(stamps)}
    assert state["recent"]["0"] == "2026-01-01T00:00:00+00:00"
    old = datetime(999, 12, 31, 23, 0, 0, 500, tzinfo=timezone.utc)
    early = Cursor({}, "id", "at", timedelta(hours=1))
    early.new_rows(_page([("x", old)]))
    early.commit()
    assert early.state["recent"] == {"x": "0999-12-31T23:00:00.000500+00:00"}


@pytest.mark.parametrize(("raw", "code", "region", "expected"), [
    ("+2348031234567", None, None, "+2348031234567"),
    ("2348031234567", None, None, "+2348031234567"),
    ("08031234567", "234", None, "+2348031234567"),
    ("08031234567", "+234", None, "+2348031234567"),
    ("08031234567", None, "NG", "+2348031234567"),
    ("+1 (415) 255-0100", None, None, "+14152550100"),
    ("+44 7911 670123", None, None, "+447911670123"),  # a range newer than the metadata: possible
    ("447911670123", None, None, "+447911670123"),
    ("status", None, None, None),
    ("120363045767536459", None, None, None),
    ("{Hi|Hello} [name] your message has no keyword here.", None, None, None),
    (None, None, None, None),
])
def test_to_e164(raw: str | None, code: str | None, region: str | None, expected: str | None) -> None:
    assert to_e164(raw, code, region) == expected


def _client(handler, **kwargs) -> ApiClient:
    api = ApiClient("demo", "http://demo.invalid", auth_setting="api_key",
                    retry=RetryPolicy(attempts=4, backoff_s=0.001), **kwargs)
    api._http = httpx.Client(base_url="http://demo.invalid", transport=httpx.MockTransport(handler))
    return api


def test_client_retries_transient_faults_and_honours_retry_after() -> None:
    answers = iter([httpx.Response(503), httpx.Response(429, headers={"Retry-After": "0.2"}),
                    httpx.Response(200, text='{"ok": tr'), httpx.Response(200, json={"ok": True})])
    api = _client(lambda request: next(answers))
    started = time.monotonic()
    assert api.get_json("/x") == {"ok": True}
    assert time.monotonic() - started >= 0.2
    assert api.requests == 4 and api.retries == 3


def test_client_fails_fast_on_auth_and_names_the_setting() -> None:
    api = _client(lambda request: httpx.Response(401, text="Unauthorized"))
    with pytest.raises(AuthError, match=r"^demo: the API refused the credentials \(401\); check sources.demo.api_key$"):
        api.get_json("/x", {"apiKey": "secret-value"})
    assert api.requests == 1


def test_client_gives_up_without_leaking_the_query() -> None:
    api = _client(lambda request: httpx.Response(500))
    with pytest.raises(RequestFailed) as failure:
        api.get_json("/x", {"apiKey": "secret-value"})
    assert "secret-value" not in str(failure.value)
    assert api.requests == 4


def test_rate_limiter_spaces_requests() -> None:
    limiter = RateLimiter(per_second=50)
    started = time.monotonic()
    for _ in range(11):
        limiter.acquire()
    assert time.monotonic() - started >= 0.19


def test_rate_limiter_at_zero_paces_nothing() -> None:
    limiter = RateLimiter(per_second=0)
    started = time.monotonic()
    for _ in range(1000):
        limiter.acquire()
    assert time.monotonic() - started < 0.5  # paced at even 100/s this would take 10 s
