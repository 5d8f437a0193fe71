"""The phones and emails of the people already in the warehouse.

DM Champ and Chatrace cannot be listed: they are read by looking up people the other
providers brought in. Each provider that knows people names in its descriptor a
`known_people` SQL file selecting `phone_raw, calling_code, email` from its raw tables; the
ones whose contacts table exists are used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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
    if not warehouse.exists():
        return []
    people: set[KnownPerson] = set()
    with warehouse_connection(warehouse) as con:
        tables = relations(con)
        for provider in registry.providers():
            if (provider.known_people is None or provider.name == exclude
                    or f"raw_{provider.name}.contacts" not in tables):
                continue
            for phone_raw, calling_code, email in con.execute(provider.known_people.read_text()).fetchall():
                phone = to_e164(phone_raw, calling_code, default_region)
                address = email.strip().lower() if email and "@" in email else None
                if phone or address:
                    people.add(KnownPerson(phone, address))
    return sorted(people, key=lambda p: (p.phone_e164 or "", p.email or ""))


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
