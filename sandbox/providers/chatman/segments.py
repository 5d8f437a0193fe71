"""Chatman segments and journeys, as the people using the account made them.

Generated members are a hashed share of the generated contacts; segments keep them as a set
(materialised on first use) because subscribe/unsubscribe change them. Journeys are not
changed through the API, so their users stay a pure function of the live contacts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from crmsync.sandbox.clock import BASE_END_MS, BASE_START_MS, iso_ms, mix, mix_array, now_ms
from crmsync.sandbox.ids import uuid_for
from crmsync.sandbox.providers.chatman.contacts import Contacts
from crmsync.sandbox.providers.chatman.paging import ApiError
from crmsync.sandbox.table import Key, Record

_SALT = 0x5E6
_JOURNEY_SALT = 0x70A2
_SPAN = BASE_END_MS - BASE_START_MS

# name, type, created (share of the generated span), members (per mille of contacts)
SEGMENTS = (
    ("VIP (manual)", "static", 0.10, 20),
    ("Newsletter", "live", 0.20, 60),
    ("Lagos shoppers", "live", 0.45, 40),
    ("Win-back Q1", "static", 0.80, 30),
)
SEGMENT_TYPES = ("live", "static")
MAX_SUBSCRIBE = 1000

# name, status, created (share of the span), users (per mille of contacts)
JOURNEYS = (
    ("Welcome series", "active", 0.05, 50),
    ("Abandoned cart", "active", 0.30, 30),
    ("Re-engagement", "paused", 0.60, 20),
)
JOURNEY_USER_STATUSES = ("active", "completed", "exited")


@dataclass
class Segment:
    segment_id: str
    name: str
    segment_type: str
    created_ms: int
    members: set[int] = field(default_factory=set)

    @property
    def key(self) -> Key:
        return self.created_ms, self.segment_id

    def as_json(self) -> dict[str, Any]:
        return {"segment_id": self.segment_id, "segment_name": self.name,
                "segment_type": self.segment_type, "user_count": len(self.members),
                "created_at": iso_ms(self.created_ms)}


class Segments:
    def __init__(self, contacts: Contacts, seed: int) -> None:
        self.contacts = contacts
        self.salt = mix(seed, _SALT)
        self._segments: dict[str, Segment] = {}
        self._pending: dict[str, int] = {}  # generated segments whose members are not built yet
        self._made = len(SEGMENTS)
        for i, (name, kind, share, _per_mille) in enumerate(SEGMENTS):
            segment = Segment(uuid_for(i, self.salt), name, kind, BASE_START_MS + int(_SPAN * share))
            self._segments[segment.segment_id] = segment
            self._pending[segment.segment_id] = i

    def __len__(self) -> int:
        return len(self._segments)

    def all(self) -> list[Segment]:
        """Every segment in created order, members built."""
        return sorted((self.get(sid) for sid in self._segments), key=lambda s: s.key)

    def get(self, segment_id: str) -> Segment:
        segment = self._segments.get(segment_id)
        if segment is None:
            raise ApiError(404, "Not found.")
        if segment_id in self._pending:
            segment.members = self._generated_members(self._pending.pop(segment_id))
        return segment

    def _generated_members(self, index: int) -> set[int]:
        alive = self.contacts.table.alive()
        base = alive[alive < self.contacts.table.n_base]
        picked = mix_array(base, mix(self.salt, index)) % np.uint64(1000) < np.uint64(SEGMENTS[index][3])
        return set(base[picked].tolist())

    def create(self, body: Any) -> Segment:
        if not isinstance(body, dict) or not isinstance(body.get("segment_name"), str) \
                or not body["segment_name"].strip():
            raise ApiError(400, "segment_name is required.")
        name = body["segment_name"].strip()
        if any(s.name == name for s in self._segments.values()):
            raise ApiError(400, f"A segment named {name} already exists.")
        users = body.get("users", [])
        if not isinstance(users, list):
            raise ApiError(400, "users must be a list.")
        members = {k for k in map(self._resolve, users) if k is not None}
        # Numbered by how many were ever made, not how many are left: a deleted segment's id is
        # never given to a new one.
        segment = Segment(uuid_for(self._made, self.salt), name, "live", now_ms(), members)
        self._made += 1
        self._segments[segment.segment_id] = segment
        return segment

    def _resolve(self, user: Any) -> int | None:
        """The contact a `users` entry names; unknown people are skipped (assumed)."""
        if not isinstance(user, dict):
            raise ApiError(400, "Each user must be an object with user_id, wa_id, email or external_customer_id.")
        finders = (("user_id", self.contacts.find_user_id), ("wa_id", self.contacts.find_wa_id),
                   ("email", self.contacts.find_email),
                   ("external_customer_id", self.contacts.find_external))
        for name, find in finders:
            if user.get(name) is not None:
                return find(str(user[name]))
        raise ApiError(400, "Each user must be an object with user_id, wa_id, email or external_customer_id.")

    def change(self, segment_id: str, body: Any, subscribe: bool) -> int:
        """Subscribe or unsubscribe; all-or-nothing. Returns how many memberships changed."""
        segment = self.get(segment_id)
        user_ids = body.get("user_ids") if isinstance(body, dict) else None
        if not isinstance(user_ids, list) or not all(isinstance(u, str) for u in user_ids):
            raise ApiError(400, "user_ids must be a list of user ids.")
        if len(user_ids) > MAX_SUBSCRIBE:
            raise ApiError(400, f"At most {MAX_SUBSCRIBE} user_ids per call.")
        ks = {u: self.contacts.find_user_id(u) for u in dict.fromkeys(user_ids)}
        unknown = [u for u, k in ks.items() if k is None]
        if unknown:
            raise ApiError(400, f"Unknown user_id(s): {', '.join(unknown)}")
        wanted = set(ks.values())
        changed = wanted - segment.members if subscribe else wanted & segment.members
        if subscribe:
            segment.members |= changed
        else:
            segment.members -= changed
        return len(changed)

    def delete(self, segment_id: str) -> None:
        """A person deletes the segment in the app (no API does): gone with its members."""
        self.get(segment_id)
        del self._segments[segment_id]

    def forget(self, ks: list[int]) -> None:
        """Deleted contacts leave every segment (pending ones skip them when built)."""
        for segment_id, segment in self._segments.items():
            if segment_id not in self._pending:
                segment.members.difference_update(ks)

    def user_ids(self, segment: Segment) -> list[str]:
        return [self.contacts.user_id(k) for k in sorted(segment.members)]


@dataclass
class Journey:
    journey_id: str
    name: str
    status: str
    created_ms: int
    per_mille: int
    salt: int

    @property
    def key(self) -> Key:
        return self.created_ms, self.journey_id


class Journeys:
    def __init__(self, contacts: Contacts, seed: int) -> None:
        self.contacts = contacts
        self.salt = mix(seed, _JOURNEY_SALT)
        self._journeys: dict[str, Journey] = {}
        for i, (name, status, share, per_mille) in enumerate(JOURNEYS):
            journey = Journey(uuid_for(i, self.salt), name, status, BASE_START_MS + int(_SPAN * share),
                              per_mille, mix(self.salt, i))
            self._journeys[journey.journey_id] = journey
        self._users: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # id -> (alive it came from, ks)

    def __len__(self) -> int:
        return len(self._journeys)

    def all(self) -> list[Journey]:
        return sorted(self._journeys.values(), key=lambda j: j.key)

    def get(self, journey_id: str) -> Journey:
        journey = self._journeys.get(journey_id)
        if journey is None:
            raise ApiError(404, "Not found.")
        return journey

    def delete(self, journey_id: str) -> None:
        self.get(journey_id)
        del self._journeys[journey_id]

    def users(self, journey: Journey) -> np.ndarray:
        """Live generated contacts in the journey, ascending (recomputed after deletes)."""
        alive = self.contacts.table.alive()
        cached = self._users.get(journey.journey_id)
        if cached is None or cached[0] is not alive:
            base = alive[alive < self.contacts.table.n_base]
            picked = mix_array(base, journey.salt) % np.uint64(1000) < np.uint64(journey.per_mille)
            cached = (alive, base[picked])
            self._users[journey.journey_id] = cached
        return cached[1]

    def as_json(self, journey: Journey) -> dict[str, Any]:
        return {"journey_id": journey.journey_id, "journey_name": journey.name, "status": journey.status,
                "user_count": len(self.users(journey)), "created_at": iso_ms(journey.created_ms)}

    def user_json(self, journey: Journey, k: int, contact: Record) -> dict[str, Any]:
        roll = mix(k, journey.salt + 1)
        entered = max(self.contacts.table.created_ms(k), journey.created_ms) + roll % (30 * 86_400_000)
        return {"user_id": contact["user_id"], "wa_id": contact["wa_id"],
                "status": JOURNEY_USER_STATUSES[(roll >> 50) % 3],
                "entered_at": iso_ms(entered)}
