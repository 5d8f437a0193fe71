"""The phones and emails of the people already in the warehouse.

DM Champ and Chatrace cannot be listed: they are read by looking up people the other
providers brought in. Each provider that knows people names in its descriptor a
`known_people` SQL file selecting `phone_raw, calling_code, email` from its raw tables, and
optionally `changed_at`, when the row last changed (the budgets of `sources.common.budget`
refresh first the records of people who changed elsewhere); the ones whose contacts table
exists are used.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from crmsync.kernel.phones import to_e164
from crmsync.kernel.warehouse import connect as warehouse_connection
from crmsync.kernel.warehouse import relations
from crmsync.sources import registry


@dataclass(frozen=True)
class KnownPerson:
    phone_e164: str | None
    email: str | None


def known_people(warehouse: Path, default_region: str | None = None,
                 exclude: str | None = None) -> list[KnownPerson]:
    """Distinct (phone, email) pairs, phones as E.164 (junk dropped), emails trimmed and
    lower-cased; `exclude` leaves out one provider's own tables."""
    people = {KnownPerson(phone, address) for phone, address, _ in _rows(warehouse, default_region, exclude)}
    return sorted(people, key=lambda p: (p.phone_e164 or "", p.email or ""))


def changed_at(warehouse: Path, default_region: str | None = None,
               exclude: str | None = None) -> dict[str, datetime]:
    """When each phone (E.164) or email last changed in a provider other than `exclude`, from
    the `changed_at` of the providers' known_people SQL that give one."""
    latest: dict[str, datetime] = {}
    for phone, address, changed in _rows(warehouse, default_region, exclude):
        for value in (phone, address):
            if value and changed is not None and (value not in latest or latest[value] < changed):
                latest[value] = changed
    return latest


def identity(phone_raw: str | None, calling_code: str | None, email: str | None,
             default_region: str | None) -> tuple[str | None, str | None]:
    """A person's phone as E.164 (None for junk) and email trimmed and lower-cased (None
    without an @): how every provider's people are compared."""
    return to_e164(phone_raw, calling_code, default_region), \
        email.strip().lower() if email and "@" in email else None


def _rows(warehouse: Path, default_region: str | None,
          exclude: str | None) -> Iterator[tuple[str | None, str | None, datetime | None]]:
    """(E.164 phone, email, changed_at or None) of every known person row with either."""
    if not warehouse.exists():
        return
    with warehouse_connection(warehouse) as con:
        tables = relations(con)
        for provider in registry.providers():
            if (provider.known_people is None or provider.name == exclude
                    or f"raw_{provider.name}.contacts" not in tables):
                continue
            for row in con.execute(provider.known_people.read_text()).fetchall():
                phone, address = identity(*row[:3], default_region)
                if phone or address:
                    yield phone, address, row[3] if len(row) > 3 else None


@dataclass(frozen=True)
class Person:
    """One person to look up: a known phone with the emails seen beside it, or an email alone."""

    key: str  # the phone, else the email
    phone: str | None
    emails: tuple[str, ...]

    def values(self) -> tuple[str, ...]:
        return ((self.phone,) if self.phone else ()) + self.emails


def group_people(known: Sequence[KnownPerson]) -> list[Person]:
    """One lookup per phone (its emails are the fallback); an email seen without a phone is
    asked alone unless some phone already carries it."""
    by_phone: dict[str, list[str]] = {}
    for person in known:
        if person.phone_e164:
            emails = by_phone.setdefault(person.phone_e164, [])
            if person.email and person.email not in emails:
                emails.append(person.email)
    covered = {email for emails in by_phone.values() for email in emails}
    lone = sorted({p.email for p in known if not p.phone_e164 and p.email and p.email not in covered})
    return [Person(phone, phone, tuple(emails)) for phone, emails in sorted(by_phone.items())] + \
        [Person(email, None, (email,)) for email in lone]
