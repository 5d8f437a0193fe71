"""Waabot contact records: one per person and group, generated lazily, plus changes.

Generated record k belongs to person `owner[k]` and sits in generated group `slot[k]`; both
arrays are drawn once with numpy. Everything else about record k comes from the person and
the hash `mix(k, CONTACT_SALT)`, so a record reads the same until something changes it.
About one person in ten has a second record in another group; it is created some time after
the first one, so a person's first record is always their oldest.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import numpy as np

from crmsync.sandbox import phones
from crmsync.sandbox.clock import Timeline, iso_many, iso_ms, mix_array
from crmsync.sandbox.ids import k_from_object_id, object_id_for, object_ids_for
from crmsync.sandbox.population import JUNK_PHONES, Person, Population
from crmsync.sandbox.providers.waabot.groups import SLOT_SHARES, Groups
from crmsync.sandbox.table import Table

CONTACT_SALT = 0x6A0B_0010
SECOND_RECORD_SHARE = 0.10
# Generated records edited once after creation; the others have updatedAt == createdAt.
UPDATED_SHARE = 0.2
# Mostly bare digits as in the docs' sample, sometimes what people typed.
NUMBER_STYLES = ((phones.digits, 0.8), (phones.e164, 0.1), (phones.spaced, 0.05),
                 (phones.bracketed, 0.05))
_NON_DIGITS = re.compile(r"\D")

Contact = dict[str, Any]


def number_of(person: Person, roll: float) -> str:
    """The person's number as a Waabot record shows it (`roll` in [0, 1) picks the shape);
    junk stays junk."""
    if person.junk_phone is not None:
        return person.junk_phone
    for style, share in NUMBER_STYLES:
        roll -= share
        if roll < 0:
            break
    if style is phones.bracketed and person.calling_code != "1":
        style = phones.spaced  # brackets are a North American habit
    return style(person.calling_code, person.national)


def name_of(person: Person, roll: float) -> str:
    """A WhatsApp-style display name (`roll` in [0, 1) picks it): full, first only, or a
    nickname like the docs' "Barnks 2"."""
    if roll < 0.6:
        return person.name
    if roll < 0.85:
        return person.first_name
    return f"{person.first_name} {2 + int((roll - 0.85) / 0.15 * 8)}"


def _rolls(h: np.ndarray) -> np.ndarray:
    """Four independent numbers in [0, 1) packed in each 64-bit hash: one row per hash."""
    shifts = np.arange(0, 64, 16, dtype=np.uint64)
    return (h[:, None] >> shifts & np.uint64(0xFFFF)) / 65536


def record(k_id: str, name: str, number: str, group_id: str, client_id: str,
           created: str, updated: str) -> Contact:
    return {
        "_id": k_id,
        "name": name,
        "number": number,
        "client_id": client_id,
        "group_id": group_id,
        "channel": "whatsapp",
        "transaction": {"survey_id": None, "survey_sort_id": None},
        "createdAt": created,
        "updatedAt": updated,
        "__v": 0,
    }


class ContactBook:
    def __init__(self, population: Population, groups: Groups) -> None:
        self.population = population
        self.groups = groups
        self._draw(population)
        n_base = len(self.owner)
        self.table = Table(n_base, lambda k: self._make_many([k])[0], self.id_of,
                           Timeline(n_base, CONTACT_SALT), self._make_many)
        self._by_number: dict[str, set[int]] = {}  # changed ks by their current number
        self._person_of_created: dict[int, int | None] = {}
        self._created_of_person: dict[int, list[int]] = {}
        self._junk_ks: dict[str, list[int]] | None = None  # built on first need

    def _draw(self, population: Population) -> None:
        members = population.members("waabot")
        n = len(members)
        rs = np.random.default_rng([population.seed, CONTACT_SALT])
        junk = np.fromiter((population.is_junk(int(i)) for i in members), dtype=bool, count=n)
        twice = (rs.random(n) < SECOND_RECORD_SHARE) & ~junk  # junk people have one record
        n_slots = len(SLOT_SHARES)
        first_slot = rs.choice(n_slots, n, p=SLOT_SHARES)
        second_slot = rs.choice(n_slots, n, p=SLOT_SHARES)
        clash = second_slot == first_slot
        shift = rs.integers(1, n_slots, int(clash.sum()))
        second_slot[clash] = (first_slot[clash] + shift) % n_slots
        # Sort keys: first records at their member position, second ones somewhere later.
        position = np.arange(n, dtype=np.float64)
        later = position[twice] + rs.random(int(twice.sum())) * (n - position[twice])
        keys = np.concatenate([position, later])
        order = np.argsort(keys, kind="stable")
        owner_position = np.concatenate([np.arange(n), np.flatnonzero(twice)])
        self.owner = members[owner_position[order]]
        self.slot = np.concatenate([first_slot, second_slot[twice]])[order].astype(np.int8)
        k_of = np.empty(len(order), dtype=np.int64)
        k_of[order] = np.arange(len(order))
        self._members = members
        self._first_k = k_of[:n]
        self._second_k = np.full(n, -1, dtype=np.int64)
        self._second_k[twice] = k_of[n:]

    # -- reading ------------------------------------------------------------------------
    def id_of(self, k: int) -> str:
        return object_id_for(k, CONTACT_SALT, self.table.created_ms(k))

    def k_of(self, contact_id: str) -> int | None:
        """The live record's k, for a well-formed id that this book issued."""
        k = k_from_object_id(contact_id)
        if k is None or not self.table.exists(k) or self.id_of(k) != contact_id:
            return None
        return k

    def get(self, k: int) -> Contact | None:
        return self.table.get(k)

    def person_of(self, k: int) -> int | None:
        return int(self.owner[k]) if k < self.table.n_base else self._person_of_created[k]

    def group_of(self, k: int) -> str:
        """The record's group id, without building an untouched generated record."""
        if self.table.is_changed(k):
            return self.table.get(k)["group_id"]
        return self.groups.slots[self.slot[k]].group_id

    def listed(self, ks: np.ndarray, client: str | None) -> list[Contact]:
        """The live records among `ks`, only `client`'s when one is given: generated records
        of other clients are passed over without being built."""
        if client is not None:
            theirs = np.array([slot.client_id != client for slot in self.groups.slots])
            generated = ks < self.table.n_base
            skip = np.zeros(len(ks), dtype=bool)
            skip[generated] = theirs[self.slot[ks[generated]]]
            ks = ks[~(skip & ~np.isin(ks, self.table.changed_ks()))]
        records = self.table.records(ks)
        return records if client is None else [r for r in records if r["client_id"] == client]

    def newest_first(self) -> np.ndarray:
        return self.table.alive()[::-1]

    def holders(self, number: str) -> set[int]:
        """Live ks whose record's number is exactly `number`."""
        found = set(self._by_number.get(number, ()))
        for k in self._generated_candidates(number):
            if self.table.exists(k) and self.table.get(k)["number"] == number:
                found.add(k)
        return found

    def person_ks(self, person: int) -> list[int]:
        """The person's live ks, oldest first."""
        ks = []
        position = int(np.searchsorted(self._members, person))
        if position < len(self._members) and self._members[position] == person:
            ks += [int(self._first_k[position]), int(self._second_k[position])]
        ks += self._created_of_person.get(person, [])
        return [k for k in ks if k >= 0 and self.table.exists(k)]

    def _generated_candidates(self, number: str) -> list[int]:
        if number in JUNK_PHONES:
            return self._junk_index().get(number, [])
        person = self.population.person_from_phone(_NON_DIGITS.sub("", number))
        if person is None:
            return []
        return [k for k in self.person_ks(person) if k < self.table.n_base]

    def _junk_index(self) -> dict[str, list[int]]:
        if self._junk_ks is None:
            self._junk_ks = {}
            for k, person in enumerate(self.owner):
                if self.population.is_junk(int(person)):
                    junk = self.population.person(int(person)).junk_phone
                    self._junk_ks.setdefault(junk, []).append(k)
        return self._junk_ks

    def _make_many(self, ks: list[int]) -> list[Contact]:
        # Hash bits rather than a seeded Random: this runs once per record of a full listing.
        ks_array = np.array(ks, dtype=np.int64)
        rolls = _rolls(mix_array(ks_array, CONTACT_SALT))
        timeline = self.table.timeline
        created = timeline.created_ms_array(ks_array)
        updated = np.where(rolls[:, 0] < UPDATED_SHARE, timeline.updated_ms_array(ks_array), created)
        slots = self.groups.slots
        return [
            record(k_id, name_of(person, name_roll), number_of(person, number_roll),
                   slots[slot].group_id, slots[slot].client_id, created_iso, updated_iso)
            for k_id, person, slot, name_roll, number_roll, created_iso, updated_iso in zip(
                object_ids_for(ks_array, CONTACT_SALT, created),
                self.population.people(self.owner[ks_array]), self.slot[ks_array].tolist(),
                rolls[:, 1].tolist(), rolls[:, 2].tolist(), iso_many(created), iso_many(updated))
        ]

    # -- writing ------------------------------------------------------------------------
    def create(self, person: int | None, name: str, number: str, group_id: str,
               client_id: str, created_ms: int) -> Contact:
        def build(k: int) -> Contact:
            created = iso_ms(created_ms)
            return record(object_id_for(k, CONTACT_SALT, created_ms), name, number,
                          group_id, client_id, created, created)

        k = self.table.create(build, created_ms)
        self._person_of_created[k] = person
        if person is not None:
            self._created_of_person.setdefault(person, []).append(k)
        self._remember(k, number)
        return self.table.get(k)

    def update(self, k: int, current: Contact, changes: Contact, updated_ms: int) -> Contact:
        """Apply `changes` to record k, whose `current` state the caller has just read."""
        new = {**current, **changes, "updatedAt": iso_ms(updated_ms)}
        self._forget(k)
        self.table.put(k, new, updated_ms)
        self._remember(k, new["number"])
        return new

    def delete(self, k: int) -> None:
        self._forget(k)
        self.table.delete(k)

    def delete_group(self, group_id: str) -> None:
        """Delete every record in the group."""
        doomed = [k for k in self.table.changed_ks().tolist()
                  if self.table.get(k)["group_id"] == group_id]
        slots = [s for s, slot in enumerate(self.groups.slots) if slot.group_id == group_id]
        for s in slots:
            doomed += [int(k) for k in np.flatnonzero(self.slot == s)
                       if self.table.exists(int(k)) and not self.table.is_changed(int(k))]
        for k in doomed:
            self.delete(k)

    def _remember(self, k: int, number: str) -> None:
        self._by_number.setdefault(number, set()).add(k)

    def _forget(self, k: int) -> None:
        """Drop a record about to change or go from the number index (before the table changes)."""
        if not self.table.is_changed(k):
            return
        number = self.table.get(k)["number"]
        holders = self._by_number[number]
        holders.discard(k)
        if not holders:
            del self._by_number[number]

    # -- truth ---------------------------------------------------------------------------
    def accounts(self) -> Iterator[tuple[int, str]]:
        """(person, id) of every live record with a person, in creation order."""
        for k in self.table.alive():
            person = self.person_of(int(k))
            if person is not None:
                yield person, self.id_of(int(k))
