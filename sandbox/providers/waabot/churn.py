"""How a Waabot account changes between two syncs: renamed, new and deleted contact records."""

from __future__ import annotations

import random

import numpy as np

from crmsync.sandbox import phones
from crmsync.sandbox.clock import now_ms
from crmsync.sandbox.population import Population
from crmsync.sandbox.provider import pick_share
from crmsync.sandbox.providers.waabot.contacts import ContactBook, name_of
from crmsync.sandbox.providers.waabot.groups import ACCOUNT_CLIENT_ID

NEW_PERSON_SHARE = 0.5  # of created records; the others add an existing person to a group


def churn(book: ContactBook, population: Population, rng: random.Random,
          update: float, create: float, delete: float) -> dict:
    alive = book.table.alive()
    n = len(alive)
    n_update = pick_share(rng, n, update)
    n_delete = min(pick_share(rng, n, delete), n - n_update)
    picked = [int(alive[i]) for i in rng.sample(range(n), n_update + n_delete)]
    updated = [_rename(book, k, rng) for k in picked[:n_update]]
    added = (_add(book, population, alive, rng) for _ in range(pick_share(rng, n, create)))
    created = [contact_id for contact_id in added if contact_id is not None]
    deleted = [book.id_of(k) for k in picked[n_update:]]
    for k in picked[n_update:]:
        book.delete(k)
    return {"contacts": {"updated": updated, "created": created, "deleted": deleted}}


def _rename(book: ContactBook, k: int, rng: random.Random) -> str:
    """The person edits their display name: shortened, numbered or initialled."""
    record = book.get(k)
    current = record["name"]
    first, _, rest = current.partition(" ")
    first = first or "Contact"
    options = {first, f"{first} {rng.randint(2, 99)}", f"{first} {(rest or 'X')[0]}."} - {current}
    return book.update(k, record, {"name": rng.choice(sorted(options))}, now_ms())["_id"]


def _add(book: ContactBook, population: Population, alive: np.ndarray,
         rng: random.Random) -> str | None:
    """A record for an existing person in a group they are not in yet, else for a new person."""
    mine = [g["_id"] for g in book.groups.of_client(ACCOUNT_CLIENT_ID)]
    if not mine:
        return None
    if len(alive) and rng.random() >= NEW_PERSON_SHARE:
        person = book.person_of(int(alive[rng.randrange(len(alive))]))
        if person is not None and population.person(person).junk_phone is None:
            taken = {book.group_of(k) for k in book.person_ks(person)}
            free = [g for g in mine if g not in taken]
            if free:
                return _record_for(book, population, person, rng.choice(free), rng)
    person = population.create(rng).index
    return _record_for(book, population, person, rng.choice(mine), rng)


def _record_for(book: ContactBook, population: Population, index: int, group_id: str,
                rng: random.Random) -> str:
    person = population.person(index)
    number = phones.digits(person.calling_code, person.national)
    created = book.create(index, name_of(person, rng.random()), number, group_id,
                          ACCOUNT_CLIENT_ID, now_ms())
    return created["_id"]
