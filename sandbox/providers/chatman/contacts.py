"""Chatman contacts: one generated record per person in Chatman, plus API writes and churn."""

from __future__ import annotations

import copy
import random
import re
from collections.abc import Callable
from datetime import date
from functools import cached_property
from typing import Any

import numpy as np
import phonenumbers

from crmsync.sandbox import phones
from crmsync.sandbox.clock import Timeline, iso_many, iso_ms, mix, mix_array, now_ms
from crmsync.sandbox.ids import k_from_uuid, uuid_for, uuids_for
from crmsync.sandbox.population import FIRST_NAMES, LAST_NAMES, Person, Population
from crmsync.sandbox.providers.chatman.paging import ApiError
from crmsync.sandbox.streams import Streams
from crmsync.sandbox.table import Record, Table

_SALT = 0xC0_47AC7

CITY_STATES = {
    "Lagos": "Lagos", "Abuja": "FCT", "Port Harcourt": "Rivers", "New York": "NY",
    "Chicago": "IL", "London": "England", "Mumbai": "Maharashtra", "Nairobi": "Nairobi",
}
TAGS = ("customer", "lead", "vip", "newsletter", "wholesale", "churn-risk", "event-2025")
LOYALTY_TIERS = ("bronze", "silver", "gold", "platinum")
SOURCES = ("website", "whatsapp", "instagram", "referral", "import", "store")
LANGUAGES = ("en", "fr", "yo", "ha", "hi", "sw")

SYSTEM_ATTRIBUTES = ("first_name", "last_name", "email", "date_of_birth", "gender", "city",
                     "state", "whatsapp_opted")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EXTERNAL = re.compile(r"^ext-(\d+)$")


def wa_id_of(phone_number: str, country_code: str) -> tuple[str, bool]:
    """The WhatsApp id (country code + national number, digits) and whether it is valid.

    A number the phone library cannot read keeps its digits as they came, marked invalid.
    """
    cc = re.sub(r"\D", "", country_code)
    raw = phone_number.strip()
    try:
        region = phonenumbers.region_code_for_country_code(int(cc)) if cc else "ZZ"
        number = phonenumbers.parse(raw, region)
    except (ValueError, phonenumbers.NumberParseException):
        return cc + re.sub(r"\D", "", raw), False
    wa_id = f"{number.country_code}{phonenumbers.national_significant_number(number)}"
    return wa_id, phonenumbers.is_valid_number(number)


class Contacts:
    def __init__(self, population: Population, seed: int) -> None:
        self.population = population
        self.members = population.members("chatman")
        self.salt = mix(seed, _SALT)
        self.timeline = Timeline(len(self.members), self.salt)
        self.table = Table(len(self.members), lambda k: self._generate([k])[0], self.user_id,
                           self.timeline, self._generate)
        self._person_of_created: dict[int, int] = {}
        # Lookups of records written after generation; generated ones are found through
        # the population, so no index over the whole table is ever built.
        self._by_wa_id: dict[str, int] = {}
        self._by_email: dict[str, int] = {}
        self._by_external: dict[str, int] = {}

    # -- ids and lookups -----------------------------------------------------------------
    def user_id(self, k: int) -> str:
        return uuid_for(k, self.salt)

    def find_user_id(self, user_id: Any) -> int | None:
        k = k_from_uuid(str(user_id), self.salt)
        return k if k is not None and self.table.exists(k) else None

    def person_of(self, k: int) -> int:
        return int(self.members[k]) if k < self.table.n_base else self._person_of_created[k]

    def find_wa_id(self, wa_id: str) -> int | None:
        k = self._verified(self._by_wa_id.get(wa_id), "wa_id", wa_id)
        if k is None:
            person = self.population.person_from_phone(wa_id)
            k = self._verified(self._generated_k(person), "wa_id", wa_id)
        return k

    def find_email(self, email: str) -> int | None:
        wanted = email.strip().lower()
        k = self._verified(self._by_email.get(wanted), "email", wanted)
        if k is None:
            person = self.population.person_from_email(wanted)
            k = self._verified(self._generated_k(person), "email", wanted)
        return k

    def find_external(self, external_id: str) -> int | None:
        k = self._verified(self._by_external.get(external_id), "external_customer_id", external_id)
        match = _EXTERNAL.match(external_id)
        if k is None and match:
            k = self._verified(int(match.group(1)), "external_customer_id", external_id)
        return k

    def _generated_k(self, person: int | None) -> int | None:
        if person is None:
            return None
        k = int(np.searchsorted(self.members, person))
        return k if k < len(self.members) and self.members[k] == person else None

    def _verified(self, k: int | None, field: str, value: str) -> int | None:
        """k if that live contact really has this value now (the indexes may be stale)."""
        record = None if k is None else self.table.get(k)
        if record is None:
            return None
        if field == "email":
            current = (record["system_attributes"]["email"] or "").strip().lower()
        else:
            current = record[field]
        return k if current == value else None

    @cached_property
    def created_ms_array(self) -> np.ndarray:
        """Creation time of every generated contact (for vectorised event owners)."""
        return self.timeline.created_ms_array(np.arange(self.table.n_base))

    # -- generated records ----------------------------------------------------------------
    def _generate(self, ks: list[int]) -> list[Record]:
        ks_array = np.array(ks, dtype=np.int64)
        streams = Streams()
        records = []
        for k, person, seed, user_id, created, modified in zip(
                ks, self.population.people(self.members[ks_array]),
                mix_array(ks_array, self.salt + 1).tolist(), uuids_for(ks_array, self.salt),
                iso_many(self.timeline.created_ms_array(ks_array)),
                iso_many(self.timeline.updated_ms_array(ks_array))):
            streams.seed(seed)
            records.append(_record(k, person, streams, user_id, created, modified))
        return records

    # -- API writes ------------------------------------------------------------------------
    def add(self, body: Any, modified_ms: int | None = None) -> Record:
        """A new contact, modified at its creation unless `modified_ms` says otherwise."""
        fields = parse_contact_body(body, creating=True)
        wa_id = fields["wa_id"]
        if self.find_wa_id(wa_id) is not None:
            raise ApiError(409, f"A contact with wa_id {wa_id} already exists.")
        self._check_external_free(fields.get("external_customer_id"), None)
        system = fields["system_attributes"]
        person = self.population.person_from_phone(wa_id)
        if person is None:
            person = self.population.adopt("+" + wa_id, system["first_name"], system["email"]).index
        ms = now_ms()
        modified = ms if modified_ms is None else modified_ms

        def build(k: int) -> Record:
            record = {
                "user_id": self.user_id(k), "wa_id": wa_id,
                "country_code": fields["country_code"], "phone_number": fields["phone_number"],
                "system_attributes": dict.fromkeys(SYSTEM_ATTRIBUTES) | {"whatsapp_opted": False},
                "custom_attributes": {}, "user_tags": [], "external_customer_id": None,
                "created_at": iso_ms(ms), "modified_at": iso_ms(modified),
            }
            _apply(record, fields)
            return record

        return self.table.get(self._insert(person, build, ms, modified))

    def update(self, body: Any) -> Record:
        fields = parse_contact_body(body, creating=False)
        k = self.find_wa_id(fields["wa_id"])
        if k is None:
            raise ApiError(404, "Not found.")
        self._check_external_free(fields.get("external_customer_id"), k)
        record = copy.deepcopy(self.table.get(k))
        _apply(record, fields)
        return self.put(k, record)

    def put(self, k: int, record: Record) -> Record:
        """Store a changed record: it is modified now."""
        ms = now_ms()
        record["modified_at"] = iso_ms(ms)
        self.table.put(k, record, ms)
        self._index(k, record)
        return record

    def _insert(self, person: int, build: Callable[[int], Record], ms: int, modified_ms: int | None = None) -> int:
        k = self.table.create(build, ms, modified_ms)
        self._person_of_created[k] = person
        self._index(k, self.table.get(k))
        return k

    def _index(self, k: int, record: Record) -> None:
        self._by_wa_id[record["wa_id"]] = k
        email = record["system_attributes"]["email"]
        if email:
            self._by_email[email.strip().lower()] = k
        if record["external_customer_id"]:
            self._by_external[record["external_customer_id"]] = k

    def _check_external_free(self, external_id: str | None, owner: int | None) -> None:
        if external_id is None:
            return
        holder = self.find_external(external_id)
        if holder is not None and holder != owner:
            raise ApiError(409, f"external_customer_id {external_id} belongs to another contact.")

    # -- churn -----------------------------------------------------------------------------
    def churn(self, rng: random.Random, n_update: int, n_create: int, n_delete: int) -> dict[str, list[int]]:
        """Update, delete, then create contacts; answers the ks of each."""
        alive = self.table.alive()
        n_delete = min(n_delete, len(alive) - n_update)
        picked = [int(alive[i]) for i in rng.sample(range(len(alive)), n_update + n_delete)]
        updated, deleted = picked[:n_update], picked[n_update:]
        for k in updated:
            self.put(k, _changed(copy.deepcopy(self.table.get(k)), rng))
        for k in deleted:
            self.table.delete(k)
        created = [self._churn_create(rng) for _ in range(n_create)]
        return {"updated": updated, "created": created, "deleted": deleted}

    def _churn_create(self, rng: random.Random) -> int:
        person = self._newcomer(rng)
        ms = now_ms()
        streams = Streams()
        streams.seed(rng.getrandbits(64))
        return self._insert(
            person.index, lambda k: _record(k, person, streams, self.user_id(k), iso_ms(ms), iso_ms(ms)), ms)

    def _newcomer(self, rng: random.Random) -> Person:
        """Sometimes a known person not yet in Chatman, else a brand-new person."""
        if rng.random() < 0.3:
            for _ in range(20):
                index = rng.randrange(self.population.size)
                person = self.population.person(index)
                if ("chatman" not in self.population.providers_of(index)
                        and person.junk_phone is None
                        and self.find_wa_id(phones.digits(person.calling_code, person.national)) is None):
                    return person
        return self.population.create(rng)


def _record(k: int, person: Person, streams: Streams, user_id: str, created: str,
            modified: str) -> Record:
    shape = streams.random()
    if shape < 0.5:
        phone = person.national
    elif shape < 0.8:
        phone = phones.with_trunk(person.trunk, person.national)
    else:
        phone = phones.spaced(person.calling_code, person.national)
    return {
        "user_id": user_id,
        "wa_id": phones.digits(person.calling_code, person.national),
        "country_code": f"+{person.calling_code}",
        "phone_number": phone,
        "system_attributes": {
            "first_name": person.first_name,
            "last_name": person.last_name or None,
            "email": phones.email_variant(person.email, streams.rng),
            "date_of_birth": person.birth_date or None,
            "gender": person.gender,
            "city": person.city or None,
            "state": CITY_STATES.get(person.city),
            "whatsapp_opted": person.opted_in,
        },
        "custom_attributes": _custom_attributes(streams),
        "user_tags": streams.sample(TAGS, streams.choice((0, 0, 1, 1, 1, 2, 3))),
        "external_customer_id": f"ext-{k}" if streams.random() < 0.6 else None,
        "created_at": created,
        "modified_at": modified,
    }


def _custom_attributes(streams: Streams) -> dict[str, Any]:
    """A few keys; which ones appear varies between contacts, as it does in a real CRM."""
    attrs: dict[str, Any] = {}
    if streams.random() < 0.7:
        attrs["loyalty_tier"] = streams.choice(LOYALTY_TIERS)
    if streams.random() < 0.8:
        attrs["source"] = streams.choice(SOURCES)
    if streams.random() < 0.4:
        attrs["lifetime_value"] = round(streams.rng.uniform(0, 2000), 2)
    if streams.random() < 0.3:
        attrs["preferred_language"] = streams.choice(LANGUAGES)
    return attrs


def _changed(record: Record, rng: random.Random) -> Record:
    """What a person in the CRM does to a contact: rename, retag, edit attributes, opt out."""
    change = rng.randrange(4)
    system = record["system_attributes"]
    if change == 0:
        system["first_name"] = rng.choice(FIRST_NAMES)
        system["last_name"] = rng.choice(LAST_NAMES)
    elif change == 1:
        tag = rng.choice(TAGS)
        tags = record["user_tags"]
        record["user_tags"] = [t for t in tags if t != tag] if tag in tags else tags + [tag]
    elif change == 2:
        record["custom_attributes"]["loyalty_tier"] = rng.choice(LOYALTY_TIERS)
    else:
        system["whatsapp_opted"] = not system["whatsapp_opted"]
    return record


def _apply(record: Record, fields: dict[str, Any]) -> None:
    """Merge a parsed body into a record (custom attributes set to null are removed)."""
    record["system_attributes"].update(fields.get("system_attributes", {}))
    for name, value in fields.get("custom_attributes", {}).items():
        if value is None:
            record["custom_attributes"].pop(name, None)
        else:
            record["custom_attributes"][name] = value
    if "user_tags" in fields:
        record["user_tags"] = fields["user_tags"]
    if "external_customer_id" in fields:
        record["external_customer_id"] = fields["external_customer_id"]


def parse_contact_body(body: Any, creating: bool) -> dict[str, Any]:
    """The fields of an add/update body, checked; raises ApiError(400) on the first fault."""
    phone_number, country_code = phone_fields(body)
    wa_id, _valid = wa_id_of(phone_number, country_code)
    if not re.search(r"\d{5}", wa_id):
        raise ApiError(400, "phone_number is not a phone number.")
    fields: dict[str, Any] = {"phone_number": phone_number, "country_code": country_code, "wa_id": wa_id}
    system = body.get("system_attributes")
    if creating or system is not None:
        fields["system_attributes"] = _system_attributes(system, creating)
    if body.get("custom_attributes") is not None:
        if not isinstance(body["custom_attributes"], dict):
            raise ApiError(400, "custom_attributes must be an object.")
        fields["custom_attributes"] = body["custom_attributes"]
    if body.get("user_tags") is not None:
        tags = body["user_tags"]
        if not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags):
            raise ApiError(400, "user_tags must be a list of strings.")
        fields["user_tags"] = list(dict.fromkeys(tags))
    if "external_customer_id" in body:
        fields["external_customer_id"] = _text(body["external_customer_id"], "external_customer_id")
    return fields


def phone_fields(body: Any) -> tuple[str, str]:
    """`phone_number` and `country_code` of a body, both required."""
    if not isinstance(body, dict):
        raise ApiError(400, "Request body must be a JSON object.")
    phone_number = _text(body.get("phone_number"), "phone_number", required=True)
    country_code = _text(body.get("country_code"), "country_code", required=True)
    if not re.fullmatch(r"\+?\d{1,4}", country_code):
        raise ApiError(400, "country_code must be a calling code such as +234.")
    return phone_number, country_code


def _system_attributes(system: Any, creating: bool) -> dict[str, Any]:
    if not isinstance(system, dict):
        raise ApiError(400, "system_attributes must be an object.")
    unknown = sorted(set(system) - set(SYSTEM_ATTRIBUTES))
    if unknown:
        raise ApiError(400, f"Unknown system attribute(s): {', '.join(unknown)}.")
    out = {name: _text(system[name], name)
           for name in SYSTEM_ATTRIBUTES if name in system and name != "whatsapp_opted"}
    for name in ("first_name", "email") if creating else ():
        if out.get(name) is None:
            raise ApiError(400, f"system_attributes.{name} is required.")
    if out.get("email") is not None and not _EMAIL.match(out["email"].strip()):
        raise ApiError(400, "email must be a valid email address.")
    if out.get("date_of_birth") is not None:
        _check_date(out["date_of_birth"])
    if "whatsapp_opted" in system:
        if not isinstance(system["whatsapp_opted"], bool):
            raise ApiError(400, "whatsapp_opted must be a boolean.")
        out["whatsapp_opted"] = system["whatsapp_opted"]
    return out


def _text(value: Any, name: str, required: bool = False) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if value is None or value == "":
        if required:
            raise ApiError(400, f"{name} is required.")
        return None
    if not isinstance(value, str):
        raise ApiError(400, f"{name} must be a string.")
    return value


def _check_date(value: str) -> None:
    try:
        if _DATE.match(value):
            date.fromisoformat(value)
            return
    except ValueError:
        pass
    raise ApiError(400, "date_of_birth must be a date (YYYY-MM-DD).")
