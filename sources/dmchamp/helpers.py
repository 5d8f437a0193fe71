"""DM Champ record shapes, the lookup of known people, and per-contact message cursors."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
from crmsync.kernel.warehouse import connect as warehouse_connection
from crmsync.kernel.warehouse import relations, tables_of
from crmsync.sources.common.budget import Candidate
from crmsync.sources.common.cursor import Cursor
from crmsync.sources.common.known_people import Person
from crmsync.sources.common.lookups import REFUSED, Refusals
from crmsync.sources.common.records import Column

SQL_DIR = Path(__file__).resolve().parent

LOOKUP_COLUMNS = (
    Column("lookup_key", pa.string()),
    Column("phone_e164", pa.string()),
    Column("emails", pa.list_(pa.string())),
    Column("contact_id", pa.string()),  # null: DM Champ did not know the person
    Column("found_by", pa.string()),  # "phone" or "email"
    Column("looked_up_at", pa.string(), time_format="iso"),
)

CONTACT_COLUMNS = (
    Column("contact_id", pa.string()),
    Column("phone_e164", pa.string()),  # the known phone: it found the contact (found_by "phone") or was pushed
    Column("email", pa.string()),  # the email that found it, else the first known one
    Column("found_by", pa.string()),  # "phone", "email", or "push": crmsync's push put it in a list
    Column("found_at", pa.string(), time_format="iso"),
)

TAG_COLUMNS = (
    Column("tag_id", pa.string()),  # "<contact_id>:<name>": one column to mark vanished tags by
    Column("contact_id", pa.string(), ("contactId",)),
    Column("name", pa.string()),
    Column("description", pa.string()),
)

MESSAGE_COLUMNS = (
    Column("id", pa.string()),
    Column("contact_id", pa.string(), ("contactId",)),
    Column("direction", pa.string()),
    Column("channel", pa.string()),
    Column("text", pa.string()),
    Column("created_at", pa.string(), ("createdAt",), time_format="iso"),
)


def iso_now() -> str:
    return datetime.now(timezone.utc).isoformat()


# -- who to ask ------------------------------------------------------------------------------

@dataclass
class Previous:
    """What earlier runs learnt, read back from the warehouse."""

    live: dict[str, Candidate] = field(default_factory=dict)  # contact id -> it and its person, in warehouse order
    known: set[str] = field(default_factory=set)  # every contact id, live or deleted
    # Phones/emails of live contacts, and the lookup keys that found one: a person whose
    # lookup found a contact another person also leads to is not asked again either.
    resolved: set[str] = field(default_factory=set)
    missed_at: dict[str, datetime] = field(default_factory=dict)  # lookup key -> when not found


@dataclass(frozen=True)
class Pushed:
    """A contact crmsync's push put in a list, with the person it was pushed for."""

    contact_id: str
    phone: str | None
    email: str | None

    def contact_row(self, at: str) -> dict[str, Any]:
        return {"contact_id": self.contact_id, "phone_e164": self.phone, "email": self.email,
                "found_by": "push", "found_at": at}


def read_previous(warehouse: Path) -> Previous:
    previous = Previous()
    if not warehouse.exists():
        return previous
    with warehouse_connection(warehouse) as con:
        existing = tables_of(con, "raw_dmchamp")
        deleted_at: dict[str, datetime] = {}
        if "contacts" in existing:
            for contact_id, phone, email, deleted in con.execute(_sql("found_contacts")).fetchall():
                previous.known.add(contact_id)
                if deleted is not None:
                    deleted_at[contact_id] = deleted
                    continue
                previous.live[contact_id] = Candidate(contact_id, phone, email)
                previous.resolved.update(v for v in (phone, email) if v)
        if "lookups" in existing:
            for key, contact_id, looked_up_at in con.execute(_sql("lookups")).fetchall():
                if contact_id is None:
                    previous.missed_at[key] = looked_up_at
                elif contact_id in deleted_at:
                    previous.missed_at[key] = deleted_at[contact_id]
                elif contact_id in previous.live:
                    previous.resolved.add(key)
    return previous


def read_pushed(warehouse: Path) -> list[Pushed]:
    """The contacts crmsync's push put in DM Champ lists (ops.push_state and ops.push_log),
    whoever created them; none before the first push."""
    if not warehouse.exists():
        return []
    with warehouse_connection(warehouse) as con:
        if not {"ops.push_state", "ops.push_log", "crm.people"} <= set(relations(con)):
            return []
        return [Pushed(*row) for row in con.execute(_sql("pushed_contacts")).fetchall()]


def contact_rows(answers: Sequence[Answer], pushed: Sequence[Pushed], previous: Previous) -> list[dict[str, Any]]:
    """One row per contact this run learnt of, whichever way it was reached. A contact two
    lookups lead to (a phone and an email, of one person or two) keeps the person it was
    first found for: a live contact already in the warehouse is not written again, and among
    this run's answers a phone beats an email, then the smaller lookup key. A contact the
    push put in a list that no lookup found is read too (found_by "push"), so its deletion
    is noticed on the next sync."""
    rows: dict[str, dict[str, Any]] = {}
    for answer in sorted((a for a in answers if a.contact_id),
                         key=lambda a: (a.found_by != "phone", a.person.key)):
        if answer.contact_id not in previous.live and answer.contact_id not in rows:
            rows[str(answer.contact_id)] = answer.contact_row()
    at = iso_now()
    for contact in pushed:
        if contact.contact_id not in previous.known and contact.contact_id not in rows:
            rows[contact.contact_id] = contact.contact_row(at)
    return list(rows.values())


def unresolved(people: Sequence[Person], previous: Previous) -> list[Person]:
    """People no live contact carries yet: new ones, and those not found before."""
    return [p for p in people if not any(v in previous.resolved for v in p.values())]


# -- asking ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Answer:
    person: Person
    contact_id: str | None
    found_by: str | None
    email: str | None  # the email that found the contact, else the first known
    asked_at: str
    rejected: tuple[str, ...] = ()  # values DM Champ refused as invalid (a 4xx other than 404)

    def lookup_row(self) -> dict[str, Any]:
        return {"lookup_key": self.person.key, "phone_e164": self.person.phone,
                "emails": list(self.person.emails), "contact_id": self.contact_id,
                "found_by": self.found_by, "looked_up_at": self.asked_at}

    def contact_row(self) -> dict[str, Any]:
        return {"contact_id": self.contact_id, "phone_e164": self.person.phone,
                "email": self.email, "found_by": self.found_by, "found_at": self.asked_at}


def look_up(refusals: Refusals, person: Person) -> Answer:
    """GET /contacts by phone, then by each email: the first contact id that answers."""
    asked_at = iso_now()
    rejected = []
    tries = ([("phone", "phoneNumber", person.phone)] if person.phone else []) + \
        [("email", "email", email) for email in person.emails]
    for found_by, param, value in tries:
        contact_id = _ask(refusals, {param: value})
        if contact_id is REFUSED:
            rejected.append(found_by)
        elif contact_id:
            email = value if found_by == "email" else next(iter(person.emails), None)
            return Answer(person, str(contact_id), found_by, email, asked_at, tuple(rejected))
    return Answer(person, None, None, next(iter(person.emails), None), asked_at, tuple(rejected))


def _ask(refusals: Refusals, params: dict[str, str]) -> Any:
    """The contact id DM Champ answers (None: not found), or REFUSED (it judged the phone or
    email invalid: a miss, unless it refuses most look-ups)."""
    body = refusals.ask("/contacts", params, accept=(404,))
    return body if body is REFUSED else body.get("contactId") if isinstance(body, dict) else None


# -- messages --------------------------------------------------------------------------------

class ContactCursors:
    """One createdAt Cursor per contact, behind the interface `resources.tables` expects.

    DM Champ answers a contact's whole message list each time; a cursor per contact (not one
    for all) is what lets a contact found today load its old messages while the others load
    only what came after their own newest message. Contacts read but not seen (deleted, or
    without messages) are forgotten, so the state does not grow with churn.
    """

    def __init__(self, state: dict[str, Any], lag: timedelta, kept: Iterable[str] = ()) -> None:
        self.state = state
        self.lag = lag
        self.kept = set(kept)  # contacts this run did not read (its budget skipped them): kept as they are
        self._cursors: dict[str, Cursor] = {}

    def new_rows(self, table: pa.Table) -> pa.Table:
        kept = [self._cursor(contact_id).new_rows(rows) for contact_id, rows in _runs(table)]
        return pa.concat_tables(kept, promote_options="default") if kept else table

    def commit(self) -> None:
        for contact_id in list(self.state):
            if contact_id not in self._cursors and contact_id not in self.kept:
                del self.state[contact_id]
        for cursor in self._cursors.values():
            cursor.commit()

    def _cursor(self, contact_id: str) -> Cursor:
        if contact_id not in self._cursors:
            self._cursors[contact_id] = Cursor(self.state.setdefault(contact_id, {}), "id",
                                               "created_at", self.lag)
        return self._cursors[contact_id]


def _runs(table: pa.Table) -> Iterator[tuple[str, pa.Table]]:
    """The table cut into its runs of rows of one contact (pages list them contact by contact)."""
    contact_ids = table.column("contact_id").to_pylist()
    start = 0
    for end in range(1, len(contact_ids) + 1):
        if end == len(contact_ids) or contact_ids[end] != contact_ids[start]:
            yield str(contact_ids[start]), table.slice(start, end - start)
            start = end


def _sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text()
