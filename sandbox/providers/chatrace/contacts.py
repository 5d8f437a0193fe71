"""Chatrace contacts, the account's tags and custom fields.

Generated contact k belongs to person `members("chatrace")[k]` and has id CONTACT_ID_BASE + k.
Generated tags and custom field values are drawn from `mix(k, salt)`, so numpy can answer
"who carries tag t" or "whose lead_score is 42" over a million contacts without building
them. Contacts changed or created since ("touched") are checked one by one.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from crmsync.sandbox import phones
from crmsync.sandbox.clock import BASE_END_MS, Timeline, mix, mix_array, now_ms, sql_time
from crmsync.sandbox.population import Person, Population
from crmsync.sandbox.table import Record, Table

from .catalog import (BASE_FIELDS, BASE_TAGS, BOOLEAN, CONTACT_ID_BASE, FIELD_TYPES,
                      NEW_FIELD_ID_BASE, NEW_TAG_ID_BASE, NUMBER, PAGE_ID)
from .params import ApiError

SALT = 0xC4A7_0001
MAX_FOUND = 100  # find_by_custom_field answers at most this many contacts (documented)

# Channel codes (assumed): the swagger only says "integer".
MESSENGER, INSTAGRAM, WHATSAPP = 0, 1, 5
GENDER_CODES = {"male": 1, "female": 2}  # anything else is 0, unknown (assumed)
LOCALES = {"NG": "en_NG", "US": "en_US", "GB": "en_GB", "IN": "en_IN", "KE": "sw_KE"}
TIMEZONES = {"NG": 1, "US": -5, "GB": 0, "IN": 5, "KE": 3}  # whole hours from UTC
BOOLEAN_TEXT = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
SECONDARY_PHONE_PROVIDERS = {"chatman", "whautomate"}
_NON_DIGITS = re.compile(r"\D")


def digits_of(value: str | None) -> str:
    return _NON_DIGITS.sub("", value or "")


class ContactStore:
    def __init__(self, population: Population) -> None:
        self.population = population
        self.members = population.members("chatrace")
        self.salt = population.seed * 1_000_003 + SALT
        n = len(self.members)
        self.table = Table(n, self._generate, self.id_of, Timeline(n, self.salt))
        self.tags: dict[int, str] = {tag_id: name for tag_id, name, _share in BASE_TAGS}
        self.fields: dict[int, dict[str, Any]] = {
            fid: {"id": fid, "name": name, "type": ftype, "description": description}
            for fid, name, ftype, description, _share, _values in BASE_FIELDS
        }
        self._next_tag_id = NEW_TAG_ID_BASE
        self._next_field_id = NEW_FIELD_ID_BASE
        self._person_of_new: dict[int, int] = {}  # k >= n_base -> person index
        self._k_of_new_person: dict[int, int] = {}
        self._new_by_phone: dict[str, set[int]] = {}  # digits -> contacts created since
        self._new_by_email: dict[str, set[int]] = {}

    # -- ids and people -------------------------------------------------------------------
    @staticmethod
    def id_of(k: int) -> int:
        return CONTACT_ID_BASE + k

    def k_of_id(self, contact_id: int) -> int:
        """The live contact's k; 404 when there is none."""
        k = contact_id - CONTACT_ID_BASE
        if not self.table.exists(k):
            raise ApiError(404, "User not found")
        return k

    def person_of(self, k: int) -> int:
        return int(self.members[k]) if k < self.table.n_base else self._person_of_new[k]

    def k_of_person(self, person: int | None) -> int | None:
        if person is None:
            return None
        if person in self._k_of_new_person:
            k = self._k_of_new_person[person]
        else:
            k = int(np.searchsorted(self.members, person))
            if k >= len(self.members) or self.members[k] != person:
                return None
        return k if self.table.exists(k) else None

    def alive(self) -> np.ndarray:
        return self.table.alive()

    def get(self, k: int) -> Record:
        record = self.table.get(k)
        if record is None:
            raise ApiError(404, "User not found")
        return record

    # -- generation -----------------------------------------------------------------------
    def _generate(self, k: int) -> Record:
        person = self.population.person(int(self.members[k]))
        rng = random.Random(mix(k, self.salt))
        created_ms = self.table.timeline.created_ms(k)
        secondary = bool(SECONDARY_PHONE_PROVIDERS & set(self.population.providers_of(person.index)))
        record = self._new_record(k, person, phones.international(person, rng, secondary),
                                  phones.email_variant(person.email, rng), created_ms, rng)
        record.update(self._history(rng, created_ms))
        record["tags"] = [tag_id for tag_id, _name, share in BASE_TAGS
                          if mix(k, self.salt + tag_id) % 1000 < share * 1000]
        record["fields"] = {}
        for fid, _name, _type, _descr, share, values in BASE_FIELDS:
            h = mix(k, self.salt + fid)
            if h % 1000 < share * 1000:
                record["fields"][fid] = _base_value(values, h)
        return record

    def _new_record(self, k: int, person: Person, phone: str | None, email: str | None,
                    created_ms: int, rng: random.Random) -> Record:
        roll = rng.random()
        channel = WHATSAPP if roll < 0.85 else MESSENGER if roll < 0.95 else INSTAGRAM
        return {
            "id": self.id_of(k), "page_id": PAGE_ID,
            "first_name": person.first_name, "last_name": person.last_name, "channel": channel,
            "profile_pic": f"https://cdn.chatrace.test/pics/{self.id_of(k)}.jpg"
                           if rng.random() < 0.6 else "",
            "locale": LOCALES.get(person.region, "en_US"), "gender": GENDER_CODES.get(person.gender, 0),
            "timezone": TIMEZONES.get(person.region, 0),
            "last_sent": 0, "last_delivered": 0, "last_seen": 0, "last_interaction": 0,
            "subscribed_date": sql_time(created_ms), "subscribed": 1 if person.opted_in else 0,
            "tags": [], "fields": {}, "phone": phone, "email": email,
        }

    @staticmethod
    def _history(rng: random.Random, created_ms: int) -> dict[str, int]:
        """Message activity between subscribing and the end of the generated history."""
        span = max(BASE_END_MS - created_ms, 2000)
        sent = created_ms + int(rng.random() * span * 0.9)
        delivered = sent + rng.randint(1, 30) * 1000 if rng.random() < 0.95 else 0
        seen = delivered + rng.randint(60, 7200) * 1000 if delivered and rng.random() < 0.7 else 0
        interaction = created_ms + int(rng.random() * span * 0.9)
        stamps = {"last_sent": sent, "last_delivered": delivered, "last_seen": seen,
                  "last_interaction": interaction}
        return {key: min(ms, BASE_END_MS - 1000) // 1000 for key, ms in stamps.items()}

    # -- numpy views of the generated data ------------------------------------------------
    def _base_hashes(self, salt_offset: int) -> np.ndarray:
        """mix(k, salt) of every generated k; recomputed on each call to keep memory low."""
        return mix_array(np.arange(self.table.n_base, dtype=np.uint64), self.salt + salt_offset)

    def _base_tag_mask(self, tag_id: int) -> np.ndarray:
        share = next((s for t, _n, s in BASE_TAGS if t == tag_id), 0.0)
        return self._base_hashes(tag_id) % np.uint64(1000) < share * 1000

    def _base_field_matches(self, fid: int, needle: str) -> np.ndarray:
        """Generated ks (ascending) whose generated value of field `fid` equals the needle."""
        spec = next((f for f in BASE_FIELDS if f[0] == fid), None)
        if spec is None:
            return np.empty(0, dtype=np.int64)
        _fid, _name, _type, _descr, share, values = spec
        choices = range(values) if isinstance(values, int) else values
        wanted = [i for i, v in enumerate(choices) if _normal(v) == needle]
        if not wanted:
            return np.empty(0, dtype=np.int64)
        h = self._base_hashes(fid)
        present = h % np.uint64(1000) < share * 1000
        codes = (h >> np.uint64(10)) % np.uint64(len(choices))
        return np.flatnonzero(present & np.isin(codes, np.array(wanted, dtype=np.uint64)))

    # -- rendering ------------------------------------------------------------------------
    def render(self, record: Record) -> dict[str, Any]:
        """The swagger's Contact model plus phone and email."""
        out = {key: value for key, value in record.items() if key != "fields"}
        out["tags"] = [{"id": t, "name": self.tags[t]} for t in record["tags"] if t in self.tags]
        out["custom_fields"] = self.field_values(record)
        out["phone"] = out.pop("phone")
        out["email"] = out.pop("email")
        return out

    def field_values(self, record: Record) -> list[dict[str, Any]]:
        return [self.field_value(record, fid) for fid in record["fields"] if fid in self.fields]

    def field_value(self, record: Record, fid: int) -> dict[str, Any]:
        field = self.fields[fid]
        return {"id": fid, "name": field["name"], "type": field["type"],
                "value": record["fields"].get(fid)}

    # -- lookups --------------------------------------------------------------------------
    def find(self, field_id: str, value: str) -> list[Record]:
        """find_by_custom_field: most recently updated first (assumed), at most 100."""
        if field_id == "phone":
            ks = self._find_by_phone(value)
        elif field_id == "email":
            ks = self._find_by_email(value)
        else:
            fid = int(field_id) if field_id.strip().isdigit() else None
            if fid not in self.fields:
                raise ApiError(400, "Invalid parameters: unknown custom field")
            ks = self._find_by_field(fid, _normal(value))
        return [self.get(k) for k in ks]

    def _find_by_phone(self, value: str) -> list[int]:
        wanted = digits_of(value)
        if not wanted:
            return []
        person = self.population.person_from_phone(wanted)
        return self._find_exact(person, self._new_by_phone.get(wanted, set()),
                                lambda r: digits_of(r["phone"]) == wanted)

    def _find_by_email(self, value: str) -> list[int]:
        wanted = _email_key(value)
        if "@" not in wanted:
            return []
        person = self.population.person_from_email(wanted)
        return self._find_exact(person, self._new_by_email.get(wanted, set()),
                                lambda r: _email_key(r["email"]) == wanted)

    def _find_exact(self, person: int | None, created: set[int],
                    matches: Callable[[Record], bool]) -> list[int]:
        """The person's contact, plus contacts created since with that phone or email: an API
        caller may give a known person's email to a contact with another phone."""
        ks = created | ({self.k_of_person(person)} - {None})
        found = [k for k in ks if matches(self.get(k))]
        return sorted(found, key=self.table.updated_ms, reverse=True)[:MAX_FOUND]

    def _find_by_field(self, fid: int, needle: str) -> list[int]:
        touched = sorted(self.table.changed_ks().tolist(), key=self.table.updated_ms, reverse=True)
        found = [k for k in touched if _normal(self.get(k)["fields"].get(fid)) == needle][:MAX_FOUND]
        for k in self._base_field_matches(fid, needle)[::-1]:
            if len(found) >= MAX_FOUND:
                break
            if self.table.exists(int(k)) and not self.table.is_changed(int(k)):
                found.append(int(k))
        return found

    # -- account tags and fields ----------------------------------------------------------
    def tag_by_name(self, name: str) -> int | None:
        wanted = name.strip().casefold()
        return next((t for t, n in self.tags.items() if n.casefold() == wanted), None)

    def create_tag(self, name: str) -> int:
        """A new account tag; names are unique ignoring case (assumed)."""
        if not name.strip():
            raise ApiError(400, "Invalid parameters: name is required")
        if self.tag_by_name(name) is not None:
            raise ApiError(400, "A tag with this name already exists")
        tag_id = self._next_tag_id
        self._next_tag_id += 1
        self.tags[tag_id] = name.strip()
        return tag_id

    def tag(self, tag_id: int) -> dict[str, Any]:
        if tag_id not in self.tags:
            raise ApiError(404, "Tag not found")
        return {"id": tag_id, "name": self.tags[tag_id]}

    def delete_tag(self, tag_id: int) -> None:
        """Contacts lose the tag with it: their stored ids of dead tags are never shown."""
        self.tag(tag_id)
        del self.tags[tag_id]

    def field(self, fid: int) -> dict[str, Any]:
        if fid not in self.fields:
            raise ApiError(404, "Custom field not found")
        return self.fields[fid]

    def field_by_name(self, name: str) -> dict[str, Any] | None:
        wanted = name.strip().casefold()
        return next((f for f in self.fields.values() if f["name"].casefold() == wanted), None)

    def create_field(self, name: str, ftype: int) -> dict[str, Any]:
        if not name.strip() or ftype not in FIELD_TYPES:
            raise ApiError(400, "Invalid parameters: name and a known type are required")
        if self.field_by_name(name) is not None:
            raise ApiError(400, "A custom field with this name already exists")
        fid = self._next_field_id
        self._next_field_id += 1
        self.fields[fid] = {"id": fid, "name": name.strip(), "type": ftype, "description": ""}
        return self.fields[fid]

    def coerce(self, fid: int, value: Any) -> Any:
        return coerce(self.fields[fid]["type"], value)

    # -- writes ---------------------------------------------------------------------------
    def update(self, k: int, change: Callable[[Record], None]) -> None:
        """Apply `change` to a copy of contact k and store it as updated now."""
        current = self.get(k)
        record = dict(current, tags=list(current["tags"]), fields=dict(current["fields"]))
        change(record)
        self.table.put(k, record, now_ms())

    def create(self, person: Person, phone: str | None, email: str | None, rng: random.Random,
               interacted: bool, overrides: dict[str, Any] | None = None) -> int:
        """A contact for a person Chatrace did not have; `interacted`: they messaged us now;
        `overrides`: what an API caller said about them (names, gender)."""
        created = now_ms()

        def build(k: int) -> Record:
            record = self._new_record(k, person, phone, email, created, rng)
            record.update(overrides or {})
            if interacted:
                record["last_interaction"] = record["last_seen"] = created // 1000
            return record

        k = self.table.create(build, created)
        self._person_of_new[k] = person.index
        self._k_of_new_person[person.index] = k
        self._new_by_phone.setdefault(digits_of(phone), set()).add(k)
        self._new_by_email.setdefault(_email_key(email), set()).add(k)
        return k

    def delete(self, k: int) -> None:
        record = self.get(k)
        self.table.delete(k)
        if k in self._person_of_new:
            self._k_of_new_person.pop(self._person_of_new[k], None)
            self._new_by_phone[digits_of(record["phone"])].discard(k)
            self._new_by_email[_email_key(record["email"])].discard(k)

    # -- truth ----------------------------------------------------------------------------
    def accounts(self) -> Iterator[tuple[int, str]]:
        for k in self.alive():
            yield self.person_of(int(k)), str(self.id_of(int(k)))

    def memberships(self) -> dict[str, list[str]]:
        n = self.table.n_base
        alive = self.alive()
        untouched = np.zeros(n, dtype=bool)
        untouched[alive[alive < n]] = True
        changed = self.table.changed_ks()
        untouched[changed[changed < n]] = False
        touched = [self.get(k) for k in changed.tolist()]
        out = {}
        for tag_id, name in self.tags.items():
            base = np.flatnonzero(self._base_tag_mask(tag_id) & untouched)
            ids = [self.id_of(int(k)) for k in base]
            ids += [record["id"] for record in touched if tag_id in record["tags"]]
            out[name] = [str(i) for i in sorted(ids)]
        return out


def coerce(ftype: int, value: Any) -> Any:
    """A value as a field of type `ftype` stores it; text that is not a number or a boolean
    where one is expected is a 400."""
    text = str(value).strip()
    if ftype == NUMBER:
        try:
            number = float(text)
        except ValueError:
            raise ApiError(400, "Invalid parameters: the field expects a number") from None
        return int(number) if number.is_integer() else number
    if ftype == BOOLEAN:
        if text.lower() not in BOOLEAN_TEXT:
            raise ApiError(400, "Invalid parameters: the field expects true or false")
        return BOOLEAN_TEXT[text.lower()]
    return str(value)


def _base_value(values: int | tuple[str, ...], h: int) -> Any:
    """A generated field value from its hash: a number field's values are range(values)."""
    choices = range(values) if isinstance(values, int) else values
    return choices[(h >> 10) % len(choices)]


def _email_key(email: str | None) -> str:
    return (email or "").strip().lower()


def _normal(value: Any) -> str | None:
    """How find_by_custom_field compares values: as text, trimmed, ignoring case (assumed)."""
    return None if value is None else str(value).strip().casefold()
