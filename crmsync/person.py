"""`crmsync person ID|PHONE|EMAIL`: one person as the warehouse knows them.

The identifier is a person_id, a phone (as any provider writes it: read to E.164 like the
transform does, and also matched as written) or an email (trimmed, lower case). For each
person it names: their crm.people row, their records in every provider (crm.contacts), every
stay in a segment (crm.segment_history) and every push made for them (ops.push_log).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crmsync.flows.status import records
from crmsync.kernel.errors import UserError
from crmsync.kernel.phones import to_e164
from crmsync.kernel.warehouse import open_warehouse, relations
from crmsync.transforms.functions import default_region

SQL = Path(__file__).parent / "sql"


@dataclass
class Person:
    person_id: str
    person: dict[str, Any]
    contacts: list[dict[str, Any]] = field(default_factory=list)
    segments: list[dict[str, Any]] = field(default_factory=list)
    pushes: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def sql(name: str) -> str:
    return (SQL / f"{name}.sql").read_text()


def find_people(warehouse: Path, identifier: str) -> list[Person]:
    """Everyone `identifier` names (a phone or email may name several people); none is a UserError."""
    text = identifier.strip()
    email = text.lower() if "@" in text else None
    phone = None if email else to_e164(text, None, default_region())
    # Confined, as the segment commands: crm relations may be views a model file wrote.
    with open_warehouse(warehouse, read_only=True, confined=True) as con:
        existing = set(relations(con))
        if "crm.contacts" not in existing:
            raise UserError(f"{warehouse}: no customer model yet; run crmsync transform")
        ids = [row[0] for row in con.execute(sql("person_find"), {"text": text, "phone": phone, "email": email})
               .fetchall()]
        people = []
        for person_id in ids:
            found = records(con, "SELECT * FROM crm.people WHERE person_id = $person_id"
                            if "crm.people" in existing else "SELECT $person_id AS person_id",
                            {"person_id": person_id})
            person = Person(person_id, found[0] if found else {"person_id": person_id})
            person.contacts = records(con, sql("person_contacts"), {"person_id": person_id})
            if "crm.segment_history" in existing:
                person.segments = records(con, sql("person_segments"), {"person_id": person_id})
            if "ops.push_log" in existing:
                person.pushes = records(con, sql("person_pushes"), {"person_id": person_id})
            people.append(person)
    if not people:
        raise UserError(f"nobody in {warehouse} has the person_id, phone or email {identifier!r}")
    return people
