"""Chatrace record shapes, its offset listings, and the contacts a run reaches."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
from crmsync.kernel.warehouse import connect as warehouse_connection
from crmsync.kernel.warehouse import tables_of
from crmsync.sources.common.http import ApiClient, RequestFailed
from crmsync.sources.common.known_people import Person, identity
from crmsync.sources.common.lookups import REFUSED, Refusals
from crmsync.sources.common.paging import Listing, numbered_pages
from crmsync.sources.common.records import JSON_TEXT, Column

SQL_DIR = Path(__file__).resolve().parent
CONTACT_PEOPLE = SQL_DIR / "contact_people.sql"  # the person of each live contact, for the run budget

PIPELINE_COLUMNS = (
    Column("id", pa.int64()),
    Column("name", pa.string()),
)

STAGE_COLUMNS = (
    Column("stage_key", pa.string()),  # "<pipeline_id>:<id>": one column to mark vanished stages by
    Column("pipeline_id", pa.int64()),
    Column("id", pa.int64()),
    Column("name", pa.string()),
)

PIPELINE_FIELD_COLUMNS = (
    Column("field_key", pa.string()),  # "<pipeline_id>:<id>"
    Column("pipeline_id", pa.int64()),
    Column("id", pa.int64()),
    Column("name", pa.string()),
    Column("type", pa.string()),
    Column("description", pa.string()),
)

TAG_COLUMNS = (
    Column("id", pa.int64()),
    Column("name", pa.string()),
)

CUSTOM_FIELD_COLUMNS = (
    Column("id", pa.int64()),
    Column("name", pa.string()),
    Column("type", pa.int64()),  # 0 text, 1 number, 2 date, 3 datetime, 4 boolean (assumed)
    Column("description", pa.string()),
)

OPPORTUNITY_COLUMNS = (
    Column("id", pa.int64()),
    Column("pipeline_id", pa.int64()),
    Column("contact_id", pa.int64()),
    Column("title", pa.string()),
    Column("description", pa.string()),
    Column("value", pa.float64()),
    Column("status", pa.string()),
    Column("priority", pa.string()),
    Column("stage_id", pa.int64(), ("stage", "id")),
    Column("stage_name", pa.string(), ("stage", "name")),
    Column("assigned_admins", pa.list_(pa.int64())),
    Column("created_at", pa.string(), time_format="sql"),
    Column("created_by", pa.int64()),
    Column("updated_at", pa.string(), time_format="sql"),
    Column("updated_by", pa.int64()),
)

# What the comments resource needs of an opportunity to judge whether it changed.
OPPORTUNITY_STAMP_COLUMNS = (
    Column("id", pa.int64()),
    Column("pipeline_id", pa.int64()),
    Column("updated_at", pa.string(), time_format="sql"),
)

COMMENT_COLUMNS = (
    Column("id", pa.int64()),
    Column("opportunity_id", pa.int64()),
    Column("pipeline_id", pa.int64()),
    Column("text", pa.string(), ("data",)),
    Column("created_at", pa.string(), time_format="sql"),
    Column("created_by", pa.int64()),
)

EPOCH_FIELDS = ("last_sent", "last_delivered", "last_seen", "last_interaction")

CONTACT_COLUMNS = (
    Column("id", pa.int64()),
    Column("page_id", pa.int64()),
    Column("first_name", pa.string()),
    Column("last_name", pa.string()),
    Column("phone", pa.string()),
    Column("email", pa.string()),
    Column("channel", pa.int64()),  # 5 WhatsApp, 0 Messenger, 1 Instagram (assumed)
    Column("profile_pic", pa.string()),
    Column("locale", pa.string()),
    Column("gender", pa.int64()),  # 1 male, 2 female, 0 unknown (assumed)
    Column("timezone", pa.float64()),  # hours from UTC
    *(Column(name, pa.int64(), time_format="epoch") for name in EPOCH_FIELDS),
    Column("subscribed_date", pa.string(), time_format="sql"),
    Column("subscribed", pa.int64()),
    Column("tags", JSON_TEXT),  # [{"id", "name"}]
    Column("custom_fields", JSON_TEXT),  # [{"id", "name", "type", "value"}]
)

ORDER_COLUMNS = (
    Column("order_id", pa.string()),
    Column("contact_id", pa.int64(), ("user_id",)),
    Column("page_id", pa.int64()),
    Column("status", pa.int64()),  # a code: its name and finality are settings (ORDER_STATUS_COLUMNS)
    Column("currency", pa.string()),
    # Money in cents of `currency`, as the API gives it (the transforms convert).
    Column("total", pa.int64()),
    Column("subtotal", pa.int64()),
    Column("coupon_discount", pa.int64()),
    Column("total_items", pa.int64()),
    Column("coupon", pa.string()),
    Column("line_items", JSON_TEXT),
    Column("created_at", pa.string(), time_format="sql"),
    Column("updated_at", pa.string(), time_format="sql"),
)

# The configured order statuses (`order_statuses`, `final_order_statuses`), loaded so the
# transforms name orders as the settings do.
ORDER_STATUS_COLUMNS = (
    Column("status", pa.int64()),
    Column("name", pa.string()),  # null: a final status with no name
    Column("final", pa.bool_()),
)


def order_status_records(names: dict[str, str], final: Sequence[int]) -> list[dict[str, Any]]:
    """One record per configured status code: its name and whether it is final."""
    codes = sorted({int(code) for code in names} | {int(code) for code in final})
    named = {int(code): name for code, name in names.items()}
    return [{"status": code, "name": named.get(code), "final": code in final} for code in codes]


# -- listings --------------------------------------------------------------------------------

def data_of(body: Any, where: str) -> list[dict[str, Any]]:
    """The records of an answer, `{"data": [...]}` or a bare array. Anything else fails the
    run: taking it for an empty listing would mark every record deleted."""
    records = body.get("data") if isinstance(body, dict) else body
    if not isinstance(records, list):
        raise RequestFailed(f"chatrace: {where} answered no list of records")
    return [record for record in records if isinstance(record, dict)]


def offset_pages(api: ApiClient, path: str, page_size: int, concurrency: int,
                 params: dict[str, Any] | None = None) -> Iterator[list[dict[str, Any]]]:
    """Every page of an offset/limit listing, `concurrency` pages in flight, until a short page."""

    def fetch(page: int) -> list[dict[str, Any]]:
        query = {**(params or {}), "offset": page * page_size, "limit": page_size}
        return data_of(api.get_json(path, query), f"GET {path} offset {page * page_size}")

    return numbered_pages(fetch, concurrency, Listing(api, path), first=0, full_page=page_size)


@dataclass(frozen=True)
class Page:
    """One page of one pipeline's opportunities, each record carrying its `pipeline_id`."""

    pipeline_id: int
    records: list[dict[str, Any]]


@dataclass
class ScanEnd:
    """The opportunity listing reached its end: every opportunity id and the contacts they
    point to."""

    opportunity_ids: list[int] = field(default_factory=list)
    contact_ids: dict[int, None] = field(default_factory=dict)  # ordered set
    seconds: float = 0.0  # how long the listing took


def contact_record(body: dict[str, Any]) -> dict[str, Any]:
    """A contact as loaded: 0 in an epoch field means never, not 1970."""
    return {**body, **{name: None for name in EPOCH_FIELDS if body.get(name) == 0}}


def order_record(body: dict[str, Any]) -> dict[str, Any]:
    """An order as loaded: without the contact it embeds (the contacts table has it, and its
    changes must not make the order look changed)."""
    return {key: value for key, value in body.items() if key != "contact"}


# -- who a run reaches -----------------------------------------------------------------------

@dataclass
class Lookup:
    person: Person
    contact_ids: list[int]
    rejected: int = 0  # values Chatrace refused (a 4xx other than 404)


def look_up(refusals: Refusals, person: Person) -> Lookup:
    """find_by_custom_field by phone, then by each email until one finds somebody."""
    answer = Lookup(person, [])
    tries = ([("phone", person.phone)] if person.phone else []) + [("email", e) for e in person.emails]
    for field_id, value in tries:
        body = refusals.ask("/contacts/find_by_custom_field", {"field_id": field_id, "value": value})
        if body is REFUSED:
            answer.rejected += 1  # Chatrace judged the value invalid: a miss, unless it refuses most
            continue
        found = [c.get("id") for c in data_of(body, "find_by_custom_field")]
        answer.contact_ids = [int(i) for i in found if isinstance(i, int) and not isinstance(i, bool)]
        if answer.contact_ids:
            break
    return answer


@dataclass
class Previous:
    """What earlier runs loaded, read back from the warehouse."""

    tables: set[str] = field(default_factory=set)
    live_contacts: list[int] = field(default_factory=list)
    phones: set[str] = field(default_factory=set)  # E.164 of live contacts
    emails: set[str] = field(default_factory=set)  # trimmed, lower case

    def resolved(self, person: Person) -> bool:
        """Whether a live contact already carries this person's phone or one of their emails."""
        return person.phone in self.phones or any(e in self.emails for e in person.emails)


def read_previous(warehouse: Path, default_region: str | None) -> Previous:
    previous = Previous()
    if not warehouse.exists():
        return previous
    with warehouse_connection(warehouse) as con:
        previous.tables = tables_of(con, "raw_chatrace")
        if "contacts" not in previous.tables:
            return previous
        previous.live_contacts = [int(i) for (i,) in con.execute(sql("live_contacts")).fetchall()]
        for phone_raw, calling_code, email, _changed_at in con.execute(sql("known_people")).fetchall():
            phone, address = identity(phone_raw, calling_code, email, default_region)
            if phone:
                previous.phones.add(phone)
            if address:
                previous.emails.add(address)
    return previous


def open_orders(warehouse: Path, final_statuses: Sequence[int]) -> list[tuple[str, int]]:
    """(order_id, contact_id) of the live orders whose status is not in `final_statuses`."""
    if not warehouse.exists():
        return []
    with warehouse_connection(warehouse) as con:
        if "orders" not in tables_of(con, "raw_chatrace"):
            return []
        rows = con.execute(sql("open_orders"), {"final": [int(s) for s in final_statuses]}).fetchall()
    return [(str(order_id), int(contact_id)) for order_id, contact_id in rows]


def loaded_comment_ids(warehouse: Path, opportunity_ids: Sequence[int]) -> pa.Array:
    """Ids of the comments of these opportunities already in the warehouse."""
    if not warehouse.exists() or not opportunity_ids:
        return pa.array([], pa.int64())
    with warehouse_connection(warehouse) as con:
        if "opportunity_comments" not in tables_of(con, "raw_chatrace"):
            return pa.array([], pa.int64())
        con.register("asked", pa.table({"opportunity_id": pa.array(opportunity_ids, pa.int64())}))
        found = con.sql(sql("loaded_comments")).to_arrow_table()
    return found.column("id").combine_chunks().cast(pa.int64())


def iso_now() -> str:
    return datetime.now(timezone.utc).isoformat()


def sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text()
