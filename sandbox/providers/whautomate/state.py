"""Whautomate's data: contacts, clients, contact tags, segments and messages, and every change.

Contacts, clients, tag definitions and segments are `Table`s, so generated records are built
on demand and only changes are kept in memory. A contact's messages are generated from its k
(0..6 of them, between its creation and its last activity); messages added later are kept per
contact and vanish with it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from crmsync.sandbox.clock import BASE_END_MS, BASE_START_MS, Timeline, iso_many, iso_ms, mix, mix_array
from crmsync.sandbox.ids import k_from_object_id, object_id_for, object_ids_for
from crmsync.sandbox.population import Person, Population
from crmsync.sandbox.providers.whautomate import records
from crmsync.sandbox.providers.whautomate.records import Record
from crmsync.sandbox.streams import Streams
from crmsync.sandbox.table import Table

CLIENT_SHARE = 30  # percent of the Whautomate people who are also clients

# Offsets added to the world's salt, one per use, far enough apart that none meets the next
# (tag masks use salt + offset + tag number; a Timeline uses salt and salt + 1).
_CONTACT_TIMES, _CONTACT_RNG, _CONTACT_ID, _LAST_ACTIVITY = 0, 10, 20, 30
_CONTACT_TAGS, _CLIENT_TAGS = 100, 200
_CLIENT_PICK, _CLIENT_TIMES, _CLIENT_RNG, _CLIENT_ID = 300, 310, 320, 330
_TAG_TIMES, _TAG_ID, _SEGMENT_TIMES, _SEGMENT_ID, _LOCATION_ID = 400, 410, 420, 430, 440
_MESSAGE_COUNT, _MESSAGE_RNG, _MESSAGE_ID = 500, 510, 520


class WhautomateState:
    def __init__(self, population: Population, seed: int) -> None:
        self.population = population
        self.salt = mix(seed, 0x57484155544F)
        self.members = population.members("whautomate")
        self.locations = [
            {"id": object_id_for(j, self.salt + _LOCATION_ID, BASE_START_MS), "title": title}
            for j, title in enumerate(records.LOCATION_TITLES)
        ]
        self.contacts = self._table(
            len(self.members), lambda k: self._make_contacts([k])[0], _CONTACT_TIMES, _CONTACT_ID,
            self._make_contacts)
        self.client_people = self._pick_clients()
        self.clients = self._table(
            len(self.client_people), self._make_client, _CLIENT_TIMES, _CLIENT_ID)
        self.contact_tags = self._table(
            len(records.DEFINED_TAGS), self._make_tag, _TAG_TIMES, _TAG_ID)
        self.segments = self._table(2, self._make_segment, _SEGMENT_TIMES, _SEGMENT_ID)
        self._tag_by_canonical = {
            records.canonical(name): k for k, (name, _) in enumerate(records.DEFINED_TAGS)}
        self._person_of_created: dict[int, int] = {}  # contact k >= n_base -> person
        self._created_contact_of: dict[int, int] = {}  # person -> contact k >= n_base
        self._added_messages: dict[int, list[Record]] = {}

    def _table(self, n: int, make: Callable[[int], Record], times: int, id_salt: int,
               make_many: Callable[[list[int]], list[Record]] | None = None) -> Table:
        timeline = Timeline(n, self.salt + times)
        # The id's time part comes from the timeline even for records created later, so that
        # ids never depend on the wall clock (churn answers are reproducible).
        salt = self.salt + id_salt
        return Table(n, make, lambda k: object_id_for(k, salt, timeline.created_ms(k)), timeline,
                     make_many)

    def _pick_clients(self) -> np.ndarray:
        """The people who are clients too: a share of the members, never a junk record."""
        picked = self.members[
            mix_array(self.members, self.salt + _CLIENT_PICK) % np.uint64(100) < CLIENT_SHARE]
        junk = np.fromiter((self.population.is_junk(int(p)) for p in picked), bool, len(picked))
        return picked[~junk]

    # -- generated records ----------------------------------------------------------------
    def _make_contacts(self, ks: list[int]) -> list[Record]:
        ks_array = np.array(ks, dtype=np.int64)
        timeline = self.contacts.timeline
        created = timeline.created_ms_array(ks_array)
        last_activity = created + (mix_array(ks_array, self.salt + _LAST_ACTIVITY)
                                   % (BASE_END_MS - created).astype(np.uint64)).astype(np.int64)
        streams = Streams()
        out = []
        for contact_id, person, seed, tags, *stamps in zip(
                object_ids_for(ks_array, self.salt + _CONTACT_ID, created),
                self.population.people(self.members[ks_array]),
                mix_array(ks_array, self.salt + _CONTACT_RNG).tolist(),
                records.tags_of_many(ks_array, self.salt + _CONTACT_TAGS, records.CONTACT_TAGS),
                iso_many(created), iso_many(timeline.updated_ms_array(ks_array)),
                iso_many(last_activity)):
            streams.seed(seed)
            out.append(self._contact(contact_id, person, streams.rng, tuple(stamps), tags))
        return out

    def _contact(self, contact_id: str, person: Person, rng: random.Random,
                 stamps: tuple[str, str, str], tags: list[str]) -> Record:
        location = records.pick_location(rng, self.locations)
        return records.contact(contact_id, person, rng, stamps, tags, location["id"])

    def _base_last_activity(self, k: int) -> int:
        created = self.contacts.timeline.created_ms(k)
        return created + mix(k, self.salt + _LAST_ACTIVITY) % (BASE_END_MS - created)

    def _make_client(self, k: int) -> Record:
        person = self.population.person(int(self.client_people[k]))
        rng = random.Random(mix(k, self.salt + _CLIENT_RNG))
        timeline = self.clients.timeline
        tags = records.tags_of(k, self.salt + _CLIENT_TAGS, records.CLIENT_TAGS)
        location = records.pick_location(rng, self.locations)
        stamps = (timeline.created_ms(k), timeline.updated_ms(k))
        return records.client(self.clients.id_of(k), person, rng, stamps, tags, location)

    def _make_tag(self, k: int) -> Record:
        name = records.DEFINED_TAGS[k][0]
        timeline = self.contact_tags.timeline
        return _tag_record(self.contact_tags.id_of(k), name, timeline.created_ms(k),
                           timeline.updated_ms(k))

    def _make_segment(self, k: int) -> Record:
        """The account's two criteria segments: one of contacts, one of clients."""
        lagos = self.locations[0]
        specs = (
            ("Hot leads", "contact", {"tags": ["Hot Lead"], "exclusionTags": ["Repeat Buyer"],
                                      "contactStage": "Lead", "numberOfDaysLastActivity": 30}),
            ("Lagos members", "client", {"tags": ["Member"], "exclusionTags": [],
                                         "primaryLocations": [dict(lagos)]}),
        )
        name, kind, criteria = specs[k]
        return {"id": self.segments.id_of(k), "name": name, "type": kind, "criteria": criteria,
                "location": {"id": lagos["id"]}}

    # -- lookups ----------------------------------------------------------------------------
    @staticmethod
    def find(table: Table, record_id: str) -> int | None:
        """The k of the live record with this id, or None."""
        k = k_from_object_id(record_id)
        if k is None or not table.exists(k) or table.id_of(k) != record_id:
            return None
        return k

    def person_of(self, k: int) -> int:
        return int(self.members[k]) if k < self.contacts.n_base else self._person_of_created[k]

    def contact_of_person(self, person: int) -> int | None:
        """The k of the person's live contact, if they have one."""
        k = self._created_contact_of.get(person)
        if k is None:
            pos = int(np.searchsorted(self.members, person))
            if pos < len(self.members) and self.members[pos] == person:
                k = pos
        return k if k is not None and self.contacts.exists(k) else None

    def messages(self, k: int) -> list[Record]:
        """The contact's conversation, oldest first."""
        return self._base_messages(k) + self._added_messages.get(k, [])

    def _base_messages(self, k: int) -> list[Record]:
        if k >= self.contacts.n_base:
            return []
        count = records.message_count(k, self.salt + _MESSAGE_COUNT)
        rng = random.Random(mix(k, self.salt + _MESSAGE_RNG))
        start, end = self.contacts.timeline.created_ms(k), self._base_last_activity(k)
        stamps = sorted(rng.randint(start, end) for _ in range(count))
        # A conversation starts with the contact writing in.
        return [records.message(self._message_id(k, seq), rng, ms,
                                inbound=seq == 0 or rng.random() < 0.5)
                for seq, ms in enumerate(stamps)]

    def _message_id(self, k: int, seq: int) -> str:
        return records.message_id(k, seq, self.salt + _MESSAGE_ID)

    # -- contact writes ---------------------------------------------------------------------
    def create_contact(self, person: Person, fields: dict[str, Any], now: int) -> int:
        """A new contact for `person`, generated then overridden by `fields`; answers its k."""
        k = self.contacts.create(
            lambda k: {**self._new_contact(k, person, now), **fields}, now)
        self._person_of_created[k] = person.index
        self._created_contact_of[person.index] = k
        self.define_tags(self.contacts.get(k)["tags"], now)
        return k

    def _new_contact(self, k: int, person: Person, now: int) -> Record:
        rng = random.Random(mix(k, self.salt + _CONTACT_RNG))
        return self._contact(self.contacts.id_of(k), person, rng, (iso_ms(now),) * 3, [])

    def update_contact(self, k: int, changes: dict[str, Any], now: int) -> Record:
        record = {**self.contacts.get(k), **changes, "updatedAt": iso_ms(now)}
        self.contacts.put(k, record, now)
        if "tags" in changes:
            self.define_tags(changes["tags"], now)
        return record

    def delete_contact(self, k: int) -> list[str]:
        """Delete the contact; answer the ids of the messages that went with it."""
        gone = [m["id"] for m in self.messages(k)]
        self.contacts.delete(k)
        self._added_messages.pop(k, None)
        return gone

    def add_messages(self, k: int, count: int, rng: random.Random, now: int) -> list[Record]:
        """`count` new messages at `now`, the first from the contact."""
        seq = len(self.messages(k))
        added = [records.message(self._message_id(k, seq + i), rng, now, inbound=i == 0)
                 for i in range(count)]
        self._added_messages.setdefault(k, []).extend(added)
        return added

    def contact_tags_change(self, k: int, add: list[str], remove: list[str], now: int) -> Record:
        """Add and remove tags; only a real change bumps `updatedAt` (assumed). Every added
        name becomes a contactTag if it is not one yet (assumed)."""
        self.define_tags(add, now)
        record = self.contacts.get(k)
        tags = _changed_tags(record["tags"], add, remove)
        return record if tags == record["tags"] else self.update_contact(k, {"tags": tags}, now)

    # -- other writes -----------------------------------------------------------------------
    def client_tags_change(self, k: int, add: list[str], remove: list[str], now: int) -> Record:
        record = self.clients.get(k)
        tags = _changed_tags(record["tags"], add, remove)
        return record if tags == record["tags"] else self.update_client(k, {"tags": tags}, now)

    def update_client(self, k: int, changes: dict[str, Any], now: int) -> Record:
        record = {**self.clients.get(k), **changes, "updatedAt": iso_ms(now)}
        self.clients.put(k, record, now)
        return record

    def define_tags(self, names: list[str], now: int) -> None:
        for name in names:
            if self.tag_named(name) is None:
                self.create_tag(name, now)

    def tag_named(self, name: str) -> int | None:
        return self._tag_by_canonical.get(records.canonical(name))

    def create_tag(self, name: str, now: int) -> Record:
        k = self.contact_tags.create(
            lambda k: _tag_record(self.contact_tags.id_of(k), name.strip(), now, now), now)
        self._tag_by_canonical[records.canonical(name)] = k
        return self.contact_tags.get(k)

    def create_segment(self, fields: dict[str, Any], now: int) -> Record:
        k = self.segments.create(lambda k: {"id": self.segments.id_of(k), **fields}, now)
        return self.segments.get(k)

    def tag_candidates(self, wanted: set[str]) -> np.ndarray:
        """Ascending ks of the live contacts that may carry one of the `wanted` tags (lower
        case): the generated carriers, found by hash, and every edited contact."""
        alive = self.contacts.alive()
        generated = alive[alive < self.contacts.n_base]
        carries = np.zeros(len(generated), dtype=bool)
        for j, (name, rate) in enumerate(records.CONTACT_TAGS):
            if name.lower() in wanted:
                carries |= records.tag_mask(generated, self.salt + _CONTACT_TAGS, j, rate)
        return np.union1d(generated[carries], self.contacts.changed_ks())

    # -- truth ------------------------------------------------------------------------------
    def accounts(self) -> Iterator[tuple[int, str]]:
        for k in self.contacts.alive():
            yield self.person_of(int(k)), self.contacts.id_of(int(k))

    def counts(self) -> dict[str, int]:
        alive = self.contacts.alive()
        base = alive[alive < self.contacts.n_base]
        messages = int(records.message_counts(base, self.salt + _MESSAGE_COUNT).sum())
        messages += sum(len(added) for added in self._added_messages.values())
        return {
            "contacts": len(self.contacts),
            "clients": len(self.clients),
            "contact_tags": len(self.contact_tags),
            "segments": len(self.segments),
            "messages": messages,
        }

    def memberships(self) -> dict[str, list[str]]:
        """Tag name -> ids of the live contacts carrying it: hashes for the records still as
        generated, the records themselves for the others."""
        alive = self.contacts.alive()
        untouched = alive[alive < self.contacts.n_base]
        untouched = untouched[~np.isin(untouched, self.contacts.changed_ks())]
        out: dict[str, list[str]] = {}
        for j, (name, rate) in enumerate(records.CONTACT_TAGS):
            carriers = untouched[records.tag_mask(untouched, self.salt + _CONTACT_TAGS, j, rate)]
            if len(carriers):
                out[name] = [self.contacts.id_of(int(k)) for k in carriers]
        for k in self.contacts.changed_ks().tolist():
            for name in self.contacts.get(k)["tags"]:
                out.setdefault(name, []).append(self.contacts.id_of(k))
        return out


def _tag_record(tag_id: str, name: str, created_ms: int, updated_ms: int) -> Record:
    return {"id": tag_id, "name": name, "canonical": records.canonical(name),
            "createdAt": iso_ms(created_ms), "updatedAt": iso_ms(updated_ms)}


def _changed_tags(tags: list[str], add: list[str], remove: list[str]) -> list[str]:
    """Tags after removing exact names and appending the missing added ones (assumed)."""
    kept = [t for t in tags if t not in remove]
    return kept + [name for name in dict.fromkeys(add) if name not in kept]
