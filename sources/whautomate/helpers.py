"""Whautomate record shapes, its page/limit listings, and what messages need."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
from crmsync.kernel.warehouse import connect as warehouse_connection
from crmsync.kernel.warehouse import tables_of
from crmsync.sources.common.http import ApiClient, RequestFailed
from crmsync.sources.common.paging import Listing, numbered_pages
from crmsync.sources.common.records import JSON_TEXT, Column
from crmsync.sources.common.scans import Scan

SQL_DIR = Path(__file__).resolve().parent
CONTACT_PEOPLE = SQL_DIR / "contact_people.sql"  # the person of each live contact, for the run budget

CONTACT_COLUMNS = (
    Column("id", pa.string()),
    Column("name", pa.string()),
    Column("phone_number", pa.string(), ("phoneNumber",)),
    Column("email", pa.string()),
    Column("stage", pa.string()),
    Column("channel", pa.string()),
    Column("tags", pa.list_(pa.string())),
    Column("custom_fields", JSON_TEXT, ("customFields",)),
    Column("notes", pa.string()),
    Column("location_id", pa.string(), ("location", "id")),
    Column("created_at", pa.string(), ("createdAt",), time_format="iso"),
    Column("updated_at", pa.string(), ("updatedAt",), time_format="iso"),
    Column("last_activity", pa.string(), ("lastActivity",), time_format="iso"),
)

CLIENT_COLUMNS = (
    Column("id", pa.string()),
    Column("full_name", pa.string(), ("fullName",)),
    Column("phone_number", pa.string(), ("phoneNumber",)),
    Column("email", pa.string()),
    Column("tags", pa.list_(pa.string())),
    Column("primary_location_id", pa.string(), ("primaryLocation", "id")),
    Column("primary_location_title", pa.string(), ("primaryLocation", "title")),
    Column("created_at", pa.string(), ("createdAt",), time_format="iso"),
    Column("updated_at", pa.string(), ("updatedAt",), time_format="iso"),
)

CONTACT_TAG_COLUMNS = (
    Column("id", pa.string()),
    Column("name", pa.string()),
    Column("canonical", pa.string()),
    Column("created_at", pa.string(), ("createdAt",), time_format="iso"),
    Column("updated_at", pa.string(), ("updatedAt",), time_format="iso"),
)

SEGMENT_COLUMNS = (
    Column("id", pa.string()),
    Column("name", pa.string()),
    Column("type", pa.string()),
    Column("criteria", JSON_TEXT),
    Column("location_id", pa.string(), ("location", "id")),
)

MESSAGE_COLUMNS = (
    Column("id", pa.string()),
    Column("contact_id", pa.string(), ("contactId",)),
    Column("direction", pa.string()),
    Column("type", pa.string()),
    Column("text", pa.string()),
    Column("status", pa.string()),
    Column("created_at", pa.string(), ("createdAt",), time_format="iso"),
)


@dataclass(frozen=True)
class ListingEnd:
    """What the contacts listing hands its followers once complete: the ids it saw."""

    seen: list[str]


@dataclass
class ListingPages:
    """The pages each listing of a run has read so far, which are done, and how many each
    should take by the live rows the warehouse held before the run (None: no table yet)."""

    warehouse: Path
    page_size: int
    read: Counter[str] = field(default_factory=Counter)
    done: set[str] = field(default_factory=set)
    _rows: dict[str, int | None] = field(default_factory=dict)

    def expected(self, table: str) -> int | None:
        """The pages the listing of `table` should take (listing_pages), None before it exists."""
        if table not in self._rows:
            self._rows[table] = None
            if self.warehouse.exists():
                with warehouse_connection(self.warehouse) as con:
                    if table in tables_of(con, "raw_whautomate"):
                        self._rows[table] = con.execute(_sql("live_rows").format(table=table)).fetchone()[0]
        rows = self._rows[table]
        return None if rows is None else listing_pages(rows, self.page_size)

    def still_to_read(self, tables: Sequence[str]) -> int:
        """Pages the listings of `tables` not done yet should still read."""
        return sum(max(0, (self.expected(t) or 0) - self.read[t]) for t in tables if t not in self.done)


def listing_pages(records: int, page_size: int) -> int:
    """The fewest requests a listing of `records` takes: its full and partial pages, and the
    empty one that ends it (the API gives no total, and a short page is not said to be the last)."""
    return -(-records // page_size) + 1


def listing(api: ApiClient, path: str, page_size: int, concurrency: int,
            expected: int | None = None) -> Iterator[list[dict[str, Any]]]:
    """Every page of a listing, `concurrency` pages in flight, until the empty array; past the
    `expected` pages, one at a time (ReadAhead)."""

    def fetch(page: int) -> list[dict[str, Any]]:
        body = api.get_json(path, {"limit": page_size, "page": page})
        if not isinstance(body, list):
            # Taking it for the end would mark every later record deleted.
            raise RequestFailed(f"whautomate: GET {path} page {page} answered no JSON array")
        return [record for record in body if isinstance(record, dict)]

    return numbered_pages(fetch if expected is None else ReadAhead(fetch, expected), concurrency,
                          Listing(api, path))


class ReadAhead:
    """A listing's fetch that asks for a page past the `last` expected only once the page before
    came back with records. With no total, reading `concurrency` pages ahead would otherwise
    ask for up to concurrency - 1 pages past the empty one that ends the listing, every run."""

    def __init__(self, fetch: Callable[[int], list[dict[str, Any]]], last: int) -> None:
        self._fetch = fetch
        self._last = last
        self._had_records: dict[int, bool] = {}
        self._answered = threading.Condition()

    def __call__(self, page: int) -> list[dict[str, Any]]:
        if page > self._last:
            with self._answered:  # the page before was asked first (numbered_pages: in order)
                self._answered.wait_for(lambda: page - 1 in self._had_records)
                if not self._had_records[page - 1]:
                    return self._answer(page, [])  # the listing ended there: no request
        records: list[dict[str, Any]] = []
        try:
            records = self._fetch(page)
        finally:  # a failed page releases those waiting on it too (the listing fails on it)
            self._answer(page, records)
        return records

    def _answer(self, page: int, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        with self._answered:
            self._had_records[page] = bool(records)
            self._answered.notify_all()
        return records


@dataclass
class MessageLog:
    """Whether raw_whautomate.messages exists once this run has loaded: it did before (source
    state, read by the contacts resource) or this run yields a message; and whose messages
    this run read because the listing showed their contact new or changed."""

    existed: bool = False
    yielded: bool = False
    changed: list[str] = field(default_factory=list)

    @property
    def table_exists(self) -> bool:
        return self.existed or self.yielded


class MessagesScan(Scan):
    """Messages are marked through their contact (key contact_id): the messages of a contact
    the complete contacts scan saw are live, the others' deleted. Decided after the load,
    when it is known whether the messages table exists."""

    def __init__(self, contacts: Scan, log: MessageLog) -> None:
        super().__init__("messages", "contact_id")
        self._contacts = contacts
        self._log = log

    @property  # type: ignore[override]
    def complete(self) -> bool:
        return self._contacts.complete and self._log.table_exists

    @complete.setter
    def complete(self, value: bool) -> None:
        """Ignored: the contacts scan decides."""

    def seen(self) -> pa.Table:
        return self._contacts.seen()


def fetch_messages(api: ApiClient, pool: ThreadPoolExecutor, contact_ids: Sequence[str],
                   problems: Any) -> list[dict[str, Any]]:
    """Every message of these contacts, each tagged with its contactId. A contact deleted
    since the listing answers 404: no messages (the next scan marks it)."""
    answers = pool.map(lambda cid: api.get_json(f"/messages/{cid}", accept=(404,)), contact_ids)
    records: list[dict[str, Any]] = []
    for contact_id, body in zip(contact_ids, answers, strict=True):
        if body is not None and not isinstance(body, list):
            problems["messages: answer is not a list"] += 1
            continue
        records += [{**m, "contactId": contact_id} for m in body or () if isinstance(m, dict)]
    return records


def loaded_message_ids(warehouse: Path, contact_ids: Sequence[str]) -> pa.Array:
    """Ids of the messages of these contacts already in the warehouse."""
    if not warehouse.exists() or not contact_ids:
        return pa.array([], pa.string())
    with warehouse_connection(warehouse) as con:
        if "messages" not in tables_of(con, "raw_whautomate"):
            return pa.array([], pa.string())
        con.register("asked", pa.table({"contact_id": pa.array(contact_ids, pa.string())}))
        found = con.sql(_sql("loaded_messages")).to_arrow_table()
    return found.column("id").combine_chunks().cast(pa.string())


def unseen_ids(warehouse: Path, table: str, scan: Scan) -> list[str]:
    """Ids live in the warehouse that this run's listing of `table` did not show."""
    if not warehouse.exists():
        return []
    with warehouse_connection(warehouse) as con:
        con.register("seen_ids", scan.seen())
        return [str(row[0]) for row in con.execute(_sql("unseen").format(table=table)).fetchall()]


def still_existing(api: ApiClient, pool: ThreadPoolExecutor, path: str,
               ids: Sequence[str]) -> list[dict[str, Any]]:
    """The records at `path/<id>` that still exist (404: deleted)."""
    answers = pool.map(lambda record_id: api.get_json(f"{path}/{record_id}", accept=(404,)), ids)
    return [body for body in answers if isinstance(body, dict)]


def _sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text()
