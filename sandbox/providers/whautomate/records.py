"""What Whautomate's records look like: vocabularies and builders of generated records.

Everything here is a pure function of its arguments, so a generated record is the same on
every read. Which tags a generated contact or client carries is decided by a hash of its k
(not by its random stream), so the tag memberships of a million contacts can be computed with
numpy without building the records.
"""

from __future__ import annotations

import random
import re
from functools import lru_cache
from itertools import accumulate
from typing import Any

import numpy as np

from crmsync.sandbox import phones
from crmsync.sandbox.clock import iso_ms, mix, mix_array
from crmsync.sandbox.population import Person

Record = dict[str, Any]

STAGES = ("Subscriber", "Lead", "Customer", "Inactive")
# Cumulative weights: `choices` would add the weights up on every draw.
_STAGE_WEIGHTS = tuple(accumulate((40, 30, 20, 10)))
CHANNELS = ("whatsapp", "instagram", "messenger", "webchat")
_CHANNEL_WEIGHTS = tuple(accumulate((85, 6, 5, 4)))
LOCATION_TITLES = ("Lagos HQ", "Nairobi Branch", "London Office")
_LOCATION_WEIGHTS = tuple(accumulate((60, 25, 15)))

# (tag name, contacts per thousand carrying it). The defined tags are the account's
# contactTags; the hand-made ones were typed straight onto contacts in the app and have no
# contactTag definition until someone adds them through the API (assumed).
DEFINED_TAGS = (
    ("Hot Lead", 90), ("Webinar 2025", 70), ("Black Friday", 80), ("Abandoned Cart", 60),
    ("Repeat Buyer", 50), ("Wholesale", 30), ("Follow Up", 70),
)
HAND_MADE_TAGS = (("vip", 15), ("newsletter", 25), ("called back", 10))
CONTACT_TAGS = DEFINED_TAGS + HAND_MADE_TAGS
# Client tags are a vocabulary of their own, with no definitions endpoint (assumed).
CLIENT_TAGS = (("Member", 300), ("Premium", 120), ("Trial", 150), ("Lapsed", 80))

NOTES = (
    "Asked about delivery times", "Prefers evening calls", "Wants the wholesale price list",
    "Met at the Lagos expo", "Complained about a late order", "Referred by a friend",
)
CUSTOM_FIELD_VALUES = {
    "preferredLanguage": ("en", "fr", "yo", "sw", "hi"),
    "source": ("facebook-ad", "website", "walk-in", "referral"),
}
INBOUND_TEXTS = (
    "Hi, is this still available?", "How much is delivery to Ikeja?", "Thanks!",
    "Can I pay on delivery?", "What time do you open tomorrow?", "Please call me back",
)
OUTBOUND_TEXTS = (
    "Hello, thanks for reaching out!", "Your order has shipped.",
    "Our Black Friday sale starts tomorrow.", "Here is our price list.",
    "We are open 9am to 6pm, Monday to Saturday.",
)
OUTBOUND_STATUSES = ("sent", "delivered", "read", "failed")
_OUTBOUND_STATUS_WEIGHTS = tuple(accumulate((15, 35, 45, 5)))
MAX_MESSAGES = 6  # a generated contact has 0..6 messages


def canonical(name: str) -> str:
    """A tag's canonical form: lower case, runs of anything else than letters and digits
    turned into single dashes ("Black Friday" -> "black-friday")."""
    return re.sub(r"[^0-9a-z]+", "-", name.strip().lower()).strip("-")


def tags_of(k: int, salt: int, vocabulary: tuple[tuple[str, int], ...]) -> list[str]:
    """The tags generated record k carries, in vocabulary order."""
    return [name for j, (name, rate) in enumerate(vocabulary) if mix(k, salt + j) % 1000 < rate]


def tag_mask(ks: np.ndarray, salt: int, j: int, rate: int) -> np.ndarray:
    """Which of the generated records `ks` carry tag j (the vectorised `tags_of`)."""
    return mix_array(ks, salt + j) % np.uint64(1000) < np.uint64(rate)


def tags_of_many(ks: np.ndarray, salt: int, vocabulary: tuple[tuple[str, int], ...]) -> list[list[str]]:
    """`tags_of` of many records: one hash per tag for them all, then each record's set of
    tags (as a bit mask) looked up."""
    masks = np.zeros(len(ks), dtype=np.int64)
    for j, (_name, rate) in enumerate(vocabulary):
        masks |= tag_mask(ks, salt, j, rate).astype(np.int64) << j
    return [list(_tag_set(mask, vocabulary)) for mask in masks.tolist()]


@lru_cache(maxsize=4096)
def _tag_set(mask: int, vocabulary: tuple[tuple[str, int], ...]) -> tuple[str, ...]:
    return tuple(name for j, (name, _rate) in enumerate(vocabulary) if mask >> j & 1)


def message_count(k: int, salt: int) -> int:
    return mix(k, salt) % (MAX_MESSAGES + 1)


def message_counts(ks: np.ndarray, salt: int) -> np.ndarray:
    return (mix_array(ks, salt) % np.uint64(MAX_MESSAGES + 1)).astype(np.int64)


def contact(
    contact_id: str,
    person: Person,
    rng: random.Random,
    stamps: tuple[str, str, str],
    tags: list[str],
    location_id: str,
) -> Record:
    """A contact as Whautomate shows it; `stamps` = (created, updated, last activity)."""
    created, updated, last_activity = stamps
    return {
        "id": contact_id,
        "name": person.name if rng.random() < 0.9 else person.first_name,
        "phoneNumber": phones.international(person, rng),
        "email": phones.email_variant(person.email, rng),
        "stage": rng.choices(STAGES, cum_weights=_STAGE_WEIGHTS)[0],
        "channel": rng.choices(CHANNELS, cum_weights=_CHANNEL_WEIGHTS)[0],
        "tags": tags,
        "customFields": custom_fields(rng),
        "notes": rng.choice(NOTES) if rng.random() < 0.3 else "",
        "location": {"id": location_id},
        "createdAt": created,
        "updatedAt": updated,
        "lastActivity": last_activity,
    }


def custom_fields(rng: random.Random) -> dict[str, Any]:
    """Mostly empty; some contacts have a language, a lead source or an order count."""
    fields: dict[str, Any] = {}
    for name, values in CUSTOM_FIELD_VALUES.items():
        if rng.random() < 0.25:
            fields[name] = rng.choice(values)
    if rng.random() < 0.2:
        fields["orderCount"] = rng.randint(1, 12)
    return fields


def client(
    client_id: str,
    person: Person,
    rng: random.Random,
    stamps: tuple[int, int],
    tags: list[str],
    location: dict[str, str],
) -> Record:
    created, updated = stamps
    return {
        "id": client_id,
        "fullName": person.name,
        "phoneNumber": phones.international(person, rng),
        "email": phones.email_variant(person.email, rng),
        "tags": tags,
        "primaryLocation": dict(location),
        "createdAt": iso_ms(created),
        "updatedAt": iso_ms(updated),
    }


def pick_location(rng: random.Random, locations: list[dict[str, str]]) -> dict[str, str]:
    return rng.choices(locations, cum_weights=_LOCATION_WEIGHTS)[0]


def message(message_id: str, rng: random.Random, created_ms: int, inbound: bool) -> Record:
    if inbound:
        kind, text, status = "text", rng.choice(INBOUND_TEXTS), "received"
    else:
        kind = "template" if rng.random() < 0.2 else "text"
        text = rng.choice(OUTBOUND_TEXTS)
        status = rng.choices(OUTBOUND_STATUSES, cum_weights=_OUTBOUND_STATUS_WEIGHTS)[0]
    return {
        "id": message_id,
        "direction": "inbound" if inbound else "outbound",
        "type": kind,
        "text": text,
        "status": status,
        "createdAt": iso_ms(created_ms),
    }


def message_id(k: int, seq: int, salt: int) -> str:
    """24 hex digits: noise, the contact's k and the message's place in its conversation."""
    return f"{mix(k, salt) & 0xFFFFFFFF:08x}{k:010x}{seq:06x}"
