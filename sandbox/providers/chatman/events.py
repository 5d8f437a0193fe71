"""Chatman events: custom event types, triggered custom events and campaign events.

Triggered event j is owned by a contact that already existed when it fired: the owner is
drawn uniformly among the contacts created at or before its `triggered_at`. Owners are a
pure function of j, computed one at a time for a page and all at once (numpy) for the
per-user index, which is built on first use.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import Any

import numpy as np

from crmsync.sandbox.clock import (BASE_END_MS, BASE_START_MS, Timeline, iso_many, iso_ms, mix, mix_array, now_ms,
                           parse_iso_ms)
from crmsync.sandbox.ids import k_from_uuid, uuid_for, uuids_for
from crmsync.sandbox.providers.chatman.contacts import Contacts
from crmsync.sandbox.providers.chatman.paging import ApiError
from crmsync.sandbox.streams import Streams
from crmsync.sandbox.table import Key, Record, Table

_SALT = 0xE7E47
EVENTS_PER_CONTACT = 2.0
ATTRIBUTE_TYPES = ("integer", "string", "float", "boolean", "list", "date", "datetime", "json", "uuid")

# The account's custom event types before any API write; together they use every type.
EVENT_TYPES: dict[str, dict[str, str]] = {
    "order_placed": {"order_id": "uuid", "amount": "float", "items": "list", "paid": "boolean"},
    "cart_abandoned": {"cart_value": "float", "item_count": "integer", "cart": "json"},
    "appointment_booked": {"service": "string", "day": "date", "slot": "datetime"},
    "form_submitted": {"form": "string", "answers": "json", "score": "integer"},
}
EVENT_NAMES = tuple(EVENT_TYPES)
PRODUCTS = ("ankara dress", "sneakers", "phone case", "rice 50kg", "headphones", "perfume", "jollof kit")
WORDS = {"service": ("haircut", "consultation", "delivery", "repair"),
         "form": ("contact", "survey", "signup", "feedback")}

# Campaign ids come from the user's configuration, so they are the same for every seed.
CAMPAIGN_IDS = tuple(uuid_for(i, 0xCA4A16) for i in range(3))
# Per campaign: when it was sent (share of the generated span) and its audience (per mille).
_CAMPAIGNS = ((0.35, 80), (0.7, 120), (0.92, 60))
CAMPAIGN_STATUSES = ("sent", "delivered", "read", "failed", "clicked")


class _TimelineAfter(Timeline):
    """A Timeline whose first slots are skipped so that every stamp is after `first_ms`."""

    def __init__(self, n: int, salt: int, first_ms: int) -> None:
        skip = 0
        super().__init__(n, salt)
        while BASE_START_MS + skip * self.slot <= first_ms:
            skip += 1
            super().__init__(n + skip, salt)
        self.skip = skip

    def created_ms(self, k: int) -> int:
        return super().created_ms(k + self.skip)

    def updated_ms(self, k: int) -> int:
        return super().updated_ms(k + self.skip)

    def created_ms_array(self, ks: np.ndarray) -> np.ndarray:
        return super().created_ms_array(ks + self.skip)

    def updated_ms_array(self, ks: np.ndarray) -> np.ndarray:
        return super().updated_ms_array(ks + self.skip)


@dataclass
class EventType:
    name: str
    attributes: dict[str, str]
    created_ms: int

    def as_json(self) -> dict[str, Any]:
        return {"event_name": self.name, "attributes": self.attributes, "created_at": iso_ms(self.created_ms)}


class TriggeredEvents:
    def __init__(self, contacts: Contacts, seed: int) -> None:
        self.contacts = contacts
        self.salt = mix(seed, _SALT)
        n_contacts = contacts.table.n_base
        n = round(n_contacts * EVENTS_PER_CONTACT) if n_contacts else 0
        self.timeline = _TimelineAfter(n, self.salt, contacts.timeline.created_ms(0))
        self.table = Table(n, lambda j: self._generate([j])[0], self.event_id, self.timeline,
                           self._generate)
        self.types = {name: EventType(name, attrs, BASE_START_MS) for name, attrs in EVENT_TYPES.items()}
        self._created_of: dict[int, list[int]] = {}  # contact k -> events created since

    # -- event types -----------------------------------------------------------------------
    def add_type(self, body: Any) -> EventType:
        if not isinstance(body, dict) or not isinstance(body.get("event_name"), str) or not body["event_name"]:
            raise ApiError(400, "event_name is required.")
        attributes = body.get("attributes", {})
        if not isinstance(attributes, dict) or not all(
                isinstance(v, str) and v in ATTRIBUTE_TYPES for v in attributes.values()):
            raise ApiError(400, f"attributes must map names to one of: {', '.join(ATTRIBUTE_TYPES)}.")
        if body["event_name"] in self.types:
            raise ApiError(400, f"Custom event {body['event_name']} already exists.")
        event_type = EventType(body["event_name"], dict(attributes), now_ms())
        self.types[event_type.name] = event_type
        return event_type

    # -- triggered events ------------------------------------------------------------------
    def event_id(self, j: int) -> str:
        return uuid_for(j, self.salt)

    def find(self, event_id: str) -> Record | None:
        j = k_from_uuid(event_id, self.salt)
        return None if j is None else self.table.get(j)

    def owners(self, js: np.ndarray) -> np.ndarray:
        """The contact that triggered each generated event: one of those existing by then."""
        ready = np.searchsorted(self.contacts.created_ms_array, self.timeline.created_ms_array(js), "right")
        return (mix_array(js, self.salt + 1) % ready.astype(np.uint64)).astype(np.int64)

    @cached_property
    def _by_owner(self) -> tuple[np.ndarray, np.ndarray]:
        """Generated events grouped by owner: (event ks sorted by owner, group bounds)."""
        owners = self.owners(np.arange(self.table.n_base))
        order = np.argsort(owners, kind="stable")
        bounds = np.searchsorted(owners[order], np.arange(self.contacts.table.n_base + 1))
        return order, bounds

    def of_contact(self, k: int) -> list[tuple[Key, int]]:
        """(key, event k) of every live event of contact k, in triggered order."""
        js: list[int] = []
        if k < self.contacts.table.n_base:
            order, bounds = self._by_owner
            js = order[bounds[k]:bounds[k + 1]].tolist()
        js += self._created_of.get(k, [])
        return [((self.table.created_ms(j), self.event_id(j)), j) for j in js if self.table.exists(j)]

    def _generate(self, js: list[int]) -> list[Record]:
        js_array = np.array(js, dtype=np.int64)
        stamps = self.timeline.created_ms_array(js_array)
        owners = self.owners(js_array)
        user_ids = uuids_for(owners, self.contacts.salt)
        streams = Streams()
        records = []
        for j, event_id, seed, user_id, ms, iso in zip(
                js, uuids_for(js_array, self.salt), mix_array(js_array, self.salt + 2).tolist(),
                user_ids, stamps.tolist(), iso_many(stamps)):
            streams.seed(seed)
            name = streams.rng.choice(EVENT_NAMES)
            attributes = _attributes(EVENT_TYPES[name], streams.rng, ms)
            records.append(_event(event_id, name, user_id, attributes, iso))
        return records

    def _record(self, j: int, name: str, contact: int, attributes: dict[str, Any], iso: str) -> Record:
        return _event(self.event_id(j), name, self.contacts.user_id(contact), attributes, iso)

    def trigger(self, body: Any) -> Record:
        if not isinstance(body, dict):
            raise ApiError(400, "Request body must be a JSON object.")
        name = body.get("event_name")
        event_type = self.types.get(name) if isinstance(name, str) else None
        if event_type is None:
            raise ApiError(400, f"Unknown event_name: {body.get('event_name')}.")
        contact = self._contact_of(body)
        attributes = body.get("attributes") or {}
        _check_attributes(event_type.attributes, attributes)
        return self.create(event_type.name, contact, attributes)

    def create(self, name: str, contact: int, attributes: dict[str, Any]) -> Record:
        ms = now_ms()
        j = self.table.create(lambda j: self._record(j, name, contact, attributes, iso_ms(ms)), ms)
        self._created_of.setdefault(contact, []).append(j)
        return self.table.get(j)

    def churn(self, rng: random.Random, n_create: int) -> list[str]:
        alive = self.contacts.table.alive()
        created = []
        for _ in range(n_create if len(alive) else 0):
            name = rng.choice(EVENT_NAMES)
            attributes = _attributes(EVENT_TYPES[name], rng, now_ms())
            created.append(self.create(name, int(alive[rng.randrange(len(alive))]), attributes)["event_id"])
        return created

    def _contact_of(self, body: dict[str, Any]) -> int:
        if body.get("user_id") is not None:
            k = self.contacts.find_user_id(body["user_id"])
        elif body.get("wa_id") is not None:
            k = self.contacts.find_wa_id(str(body["wa_id"]))
        else:
            raise ApiError(400, "user_id or wa_id is required.")
        if k is None:
            raise ApiError(400, "Unknown user.")
        return k


class CampaignEvents:
    """The events of the fixed campaigns: sent to a share of the contacts existing then,
    then delivered (or failed), read and clicked. Immutable history, built on first read."""

    def __init__(self, contacts: Contacts, seed: int) -> None:
        self.contacts = contacts
        self.salt = mix(seed, _SALT + 7)
        self._logs: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def log(self, campaign_id: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(occurred ms, contact k, status index) of every event, in occurred order."""
        if campaign_id not in self._logs:
            self._logs[campaign_id] = self._build(CAMPAIGN_IDS.index(campaign_id))
        return self._logs[campaign_id]

    def count(self) -> int:
        return sum(len(self.log(c)[0]) for c in CAMPAIGN_IDS)

    def page(self, campaign_id: str, start: int, stop: int) -> list[Record]:
        """The events at positions [start, stop) of the campaign's log."""
        ms, ks, statuses = (column[start:stop].tolist() for column in self.log(campaign_id))
        salt = mix(self.salt, CAMPAIGN_IDS.index(campaign_id))
        return [
            {"event_id": uuid_for(position, salt), "campaign_id": campaign_id,
             "user_id": self.contacts.user_id(k), "status": CAMPAIGN_STATUSES[status], "occurred_at": iso}
            for position, k, status, iso in zip(range(start, stop), ks, statuses, iso_many(ms))
        ]

    def _build(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        share, per_mille = _CAMPAIGNS[index]
        salt = mix(self.salt, index)
        sent_at = BASE_START_MS + int((BASE_END_MS - BASE_START_MS) * share)
        ready = np.arange(np.searchsorted(self.contacts.created_ms_array, sent_at))
        ks = ready[mix_array(ready, salt) % np.uint64(1000) < np.uint64(per_mille)]
        roll = mix_array(ks, salt + 1)
        sent = sent_at + np.arange(len(ks), dtype=np.int64) * 250  # the send is throttled
        failed = roll % np.uint64(100) < np.uint64(5)
        read = ~failed & ((roll >> np.uint64(8)) % np.uint64(100) < np.uint64(60))
        clicked = read & ((roll >> np.uint64(16)) % np.uint64(100) < np.uint64(25))
        landed = sent + 2000 + ((roll >> np.uint64(24)) % np.uint64(60_000)).astype(np.int64)
        seen = landed + 60_000 + ((roll >> np.uint64(40)) % np.uint64(10_800_000)).astype(np.int64)
        steps = [(sent, ks, 0), (landed[failed], ks[failed], 3), (landed[~failed], ks[~failed], 1),
                 (seen[read], ks[read], 2), (seen[clicked] + 30_000, ks[clicked], 4)]
        ms = np.concatenate([s[0] for s in steps])
        who = np.concatenate([s[1] for s in steps])
        status = np.concatenate([np.full(len(s[0]), s[2], dtype=np.int8) for s in steps])
        order = np.argsort(ms, kind="stable")
        return ms[order], who[order], status[order]


def _event(event_id: str, name: str, user_id: str, attributes: dict[str, Any], iso: str) -> Record:
    return {"event_id": event_id, "event_name": name, "user_id": user_id, "attributes": attributes,
            "triggered_at": iso}


def _attributes(schema: dict[str, str], rng: random.Random, ms: int) -> dict[str, Any]:
    return {name: _value(kind, name, rng, ms) for name, kind in schema.items()}


def _value(kind: str, name: str, rng: random.Random, ms: int) -> Any:
    if kind == "integer":
        return rng.randint(1, 20)
    if kind == "float":
        return round(rng.uniform(5, 500), 2)
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "list":
        return rng.sample(PRODUCTS, rng.randint(1, 3))
    if kind == "date":
        day = datetime.fromtimestamp(ms / 1000, tz=timezone.utc) + timedelta(days=rng.randint(1, 30))
        return day.date().isoformat()
    if kind == "datetime":
        return iso_ms(ms + rng.randint(1, 30 * 86_400) * 1000)
    if kind == "json":
        return {"channel": rng.choice(("whatsapp", "web", "app")), "items": rng.randint(1, 5)}
    if kind == "uuid":
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))
    return rng.choice(WORDS.get(name, PRODUCTS))


def _check_attributes(schema: dict[str, str], attributes: Any) -> None:
    """Every attribute must be declared by the event type and hold a value of its type."""
    if not isinstance(attributes, dict):
        raise ApiError(400, "attributes must be an object.")
    for name, value in attributes.items():
        kind = schema.get(name)
        if kind is None:
            raise ApiError(400, f"Unknown attribute: {name}.")
        if not _fits(kind, value):
            raise ApiError(400, f"Attribute {name} must be of type {kind}.")


def _fits(kind: str, value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, bool):
        return kind == "boolean"
    checks = {
        "integer": lambda v: isinstance(v, int),
        "float": lambda v: isinstance(v, (int, float)),
        "boolean": lambda v: False,
        "string": lambda v: isinstance(v, str),
        "list": lambda v: isinstance(v, list),
        "json": lambda v: isinstance(v, (dict, list)),
        "date": lambda v: isinstance(v, str) and _parses(datetime.fromisoformat, v) and len(v) == 10,
        "datetime": lambda v: isinstance(v, str) and _parses(parse_iso_ms, v),
        "uuid": lambda v: isinstance(v, str) and _parses(uuid.UUID, v),
    }
    return checks[kind](value)


def _parses(parse: Any, value: str) -> bool:
    try:
        parse(value)
    except ValueError:
        return False
    return True
