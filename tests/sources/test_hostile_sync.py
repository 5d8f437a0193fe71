"""A real Chatman sync (loopback HTTP, dlt, DuckDB) of pages no sane API would send: records
that are not objects or have no key, values of the wrong type, a key twice, values of many MB.
The sync goes on, loads the rest, counts each problem and keeps what it set aside in
ops.quarantine."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from crmsync.kernel.warehouse import connect
from crmsync.kernel.warehouse import session as warehouse_session
from crmsync.pipelines.sync import sync_provider
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.hostile import serving_app
from tests.reliability.bad_input_fixtures import clear_configuration
from tests.sources.conftest import query

AT = "2026-03-01T09:30:00.000Z"
MB = 1024 * 1024


def contact(user_id: str | None, **fields: object) -> dict:
    return {"user_id": user_id, "wa_id": "2348031234567", "country_code": "+234", "phone_number": "8031234567",
            "system_attributes": {"first_name": "Ada", "email": "ada@example.org"}, "custom_attributes": {},
            "user_tags": ["vip"], "created_at": AT, "modified_at": AT, **fields}


HOSTILE_PAGE = [
    contact("u1"),
    "not a record",
    None,
    [1, 2],
    contact(None, phone_number="no key"),
    contact("u2", user_tags="notalist"),
    contact("u3", system_attributes={"first_name": {"given": "Ann"}, "email": "ann@example.org"}),
    contact("u4", system_attributes={"first_name": "Old", "email": "x@example.org"}),
    contact("u4", system_attributes={"first_name": "New", "email": "x@example.org"}),
    contact("u5", phone_number="7" * (2 * MB), custom_attributes={"note": "n" * (3 * MB)}),
]


PREFIX = "/v1/public-apis"  # where Chatman's API lives on an account's host


def chatman_stub(contacts: list) -> Starlette:
    """Chatman's listings (CONTRACT.md section 1): `contacts` on one page, every other empty."""
    body = json.dumps({"count": len(contacts), "next": None, "results": contacts}).encode()

    async def contacts_page(request: Request) -> Response:
        return Response(body, media_type="application/json")

    async def empty(request: Request) -> JSONResponse:
        return JSONResponse({"count": 0, "next": None, "results": []})

    return Starlette(routes=[Route(f"{PREFIX}/contacts/", contacts_page)] + [
        Route(f"{PREFIX}{path}", empty)
        for path in ("/events/custom/triggered/", "/segments/", "/journeys/", "/events/custom/")])


@contextmanager
def chatman_answering(contacts: list, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Chatman pointed at a stub answering `contacts`; the warehouse's path."""
    clear_configuration(monkeypatch)
    with serving_app(chatman_stub(contacts)) as base_url:
        monkeypatch.setenv("SOURCES__CHATMAN__BASE_URL", base_url + PREFIX)
        monkeypatch.setenv("SOURCES__CHATMAN__API_KEY", "key")
        monkeypatch.setenv("CRMSYNC_PIPELINES_DIR", str(tmp_path / "pipelines"))
        yield tmp_path / "w.duckdb"


@pytest.fixture()
def hostile_chatman(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    with chatman_answering(HOSTILE_PAGE, tmp_path, monkeypatch) as warehouse:
        yield warehouse


def test_a_60_mb_value_is_cut_to_the_bound_not_an_out_of_memory_failure(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Loaded whole, this value ran DuckDB's load (128MB cap) out of memory and failed the sync."""
    page = [contact("u1"), contact("u2", phone_number="7" * (60 * MB))]
    with chatman_answering(page, tmp_path, monkeypatch) as warehouse:
        result = sync_provider("chatman", warehouse)
    assert result.status == "ok", result.error
    assert result.problems == {"contacts": {"phone_number: longer than 1048576 bytes, cut": 1}}
    assert query(warehouse, "SELECT user_id, length(phone_number) FROM raw_chatman.contacts ORDER BY 1") == \
        [("u1", 10), ("u2", MB)]


def test_a_hostile_page_loads_the_rest_counts_each_problem_and_quarantines(hostile_chatman: Path) -> None:
    warehouse = hostile_chatman
    result = sync_provider("chatman", warehouse)
    assert result.status == "ok", result.error
    assert result.problems == {"contacts": {
        "record: not an object, not loaded": 3,
        "user_id: missing, record not loaded": 1,
        "user_tags: not a list": 1,
        "first_name: not text, kept as JSON text": 1,
        "user_id: repeated, the last one kept": 1,
        "phone_number: longer than 1048576 bytes, cut": 1,
        "custom_attributes: longer than 1048576 bytes, loaded as null": 1,
    }}
    assert result.rows["contacts"] == 5

    rows = query(warehouse, "SELECT user_id, user_tags, first_name, length(phone_number), custom_attributes "
                            "FROM raw_chatman.contacts ORDER BY user_id")
    assert rows == [("u1", '["vip"]', "Ada", 10, "{}"),  # a list loads as JSON text (max_table_nesting=0)
                    ("u2", None, "Ada", 10, "{}"),
                    ("u3", '["vip"]', '{"given":"Ann"}', 10, "{}"),
                    ("u4", '["vip"]', "New", 10, "{}"),
                    ("u5", '["vip"]', "Ada", 1_048_576, None)]

    quarantined = query(warehouse, "SELECT provider, table_name, reason, record_key, loaded, raw, raw_bytes, "
                                   "noticed_at IS NOT NULL FROM ops.quarantine ORDER BY reason, raw")
    assert [q[:5] for q in quarantined] == [
        ("chatman", "contacts", "custom_attributes: longer than 1048576 bytes, loaded as null", "u5", True),
        ("chatman", "contacts", "phone_number: longer than 1048576 bytes, cut", "u5", True),
        ("chatman", "contacts", "record: not an object, not loaded", None, False),
        ("chatman", "contacts", "record: not an object, not loaded", None, False),
        ("chatman", "contacts", "record: not an object, not loaded", None, False),
        ("chatman", "contacts", "user_id: missing, record not loaded", None, False)]
    assert sorted(q[5] for q in quarantined[2:5]) == ['"not a record"', "[1,2]", "null"]
    assert json.loads(quarantined[5][5])["phone_number"] == "no key"
    assert all(len(q[5].encode()) == 10_000 and q[6] > 5 * MB for q in quarantined[:2])

    again = sync_provider("chatman", warehouse)  # the same records read again: noticed once
    assert again.status == "ok", again.error
    assert query(warehouse, "SELECT count(*) FROM ops.quarantine") == [(6,)]


def test_the_value_bound_is_a_setting(hostile_chatman: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAREHOUSE__MAX_VALUE_BYTES", "4")
    result = sync_provider("chatman", hostile_chatman)
    assert result.status == "ok", result.error
    assert result.problems["contacts"]["phone_number: longer than 4 bytes, cut"] == 5  # every loaded row
    assert query(hostile_chatman, "SELECT DISTINCT phone_number FROM raw_chatman.contacts ORDER BY 1") == \
        [("7777",), ("8031",)]
    # A number or a timestamp has no size to bound: the cursor still has its modified_at.
    assert query(hostile_chatman, "SELECT count(modified_at) FROM raw_chatman.contacts") == [(5,)]

    monkeypatch.setenv("WAREHOUSE__MAX_VALUE_BYTES", "lots")
    refused = sync_provider("chatman", hostile_chatman)
    assert refused.status == "failed"
    assert refused.error == "setting warehouse.max_value_bytes must be a whole number of bytes above 0 " \
                            "(default 1048576)"


def test_duckdb_threads_while_a_sync_writes_are_a_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One thread by default (the load costs less CPU so); `warehouse.threads` sets another
    number; a value below one fails the sync with one line."""
    with chatman_answering([contact("u1")], tmp_path, monkeypatch) as warehouse:
        for setting, expected in ((None, "1"), ("3", "3")):
            if setting is not None:
                monkeypatch.setenv("WAREHOUSE__THREADS", setting)
            with warehouse_session(warehouse):  # the instance the sync wrote with, still open
                result = sync_provider("chatman", warehouse)
                assert result.status == "ok", result.error
                with connect(warehouse) as con:
                    assert con.execute("SELECT current_setting('threads')").fetchone()[0] == int(expected)
        monkeypatch.setenv("WAREHOUSE__THREADS", "0")
        refused = sync_provider("chatman", warehouse)
    assert refused.status == "failed"
    assert refused.error == "setting warehouse.threads must be a whole number of threads above 0 (default 1)"


def test_a_partition_like_folder_is_refused_with_the_way_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """DuckDB's read_parquet takes a `name=value` folder on a load file's path for a hive
    partition: the sync says so in one line instead of failing the load on a column `.name`;
    with its working folder elsewhere, a warehouse in such a folder loads."""
    with chatman_answering([contact("u1")], tmp_path, monkeypatch):
        warehouse = tmp_path / "env=prod" / "w.duckdb"
        warehouse.parent.mkdir()
        monkeypatch.delenv("CRMSYNC_PIPELINES_DIR")
        refused = sync_provider("chatman", warehouse)
        assert refused.status == "failed"
        assert refused.error == (f"the sync's working folder {warehouse.parent / '.w.duckdb.pipelines'} has '=' in "
                                 "'env=prod', which DuckDB reads as a hive partition when loading: set "
                                 "CRMSYNC_PIPELINES_DIR to a folder without '=', or rename it")
        monkeypatch.setenv("CRMSYNC_PIPELINES_DIR", str(tmp_path / "pipelines"))
        loaded = sync_provider("chatman", warehouse)
    assert loaded.status == "ok", loaded.error
    assert loaded.rows["contacts"] == 1
