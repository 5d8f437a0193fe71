"""The shapes a person's phone takes in the providers' data."""

from __future__ import annotations

import random

from crmsync.sandbox.population import Person


def e164(cc: str, national: str) -> str:
    return f"+{cc}{national}"


def digits(cc: str, national: str) -> str:
    return f"{cc}{national}"


def with_trunk(trunk: str, national: str) -> str:
    """National format with the trunk prefix: 08031234567 (country code kept elsewhere)."""
    return f"{trunk}{national}"


def spaced(cc: str, national: str) -> str:
    """+234 803 123 4567"""
    head, mid, tail = national[:-7], national[-7:-4], national[-4:]
    return f"+{cc} {head} {mid} {tail}"


def bracketed(cc: str, national: str) -> str:
    """+1 (415) 555-0100"""
    head, mid, tail = national[:-7], national[-7:-4], national[-4:]
    return f"+{cc} ({head}) {mid}-{tail}"


INTERNATIONAL_STYLES = (e164, digits, spaced, bracketed)


def international(person: Person, rng: random.Random, secondary: bool = False) -> str:
    """The phone in one of the international shapes, chosen by `rng`; junk stays junk."""
    if person.junk_phone is not None:
        return person.junk_phone
    national = person.secondary_national if secondary and person.secondary_national else person.national
    return rng.choice(INTERNATIONAL_STYLES)(person.calling_code, national)


def email_variant(email: str | None, rng: random.Random) -> str | None:
    """The email as a person typed it: case changed, sometimes stray spaces."""
    if email is None:
        return None
    roll = rng.random()
    if roll < 0.6:
        return email
    if roll < 0.8:
        local, domain = email.split("@", 1)
        return f"{local.title()}@{domain.title()}"
    if roll < 0.9:
        return email.upper()
    return f" {email} "
