"""DM Champ emulator (CONTRACT.md section 2, docs/dmchamp.md): contacts that can only be
looked up, fixed lists, tags and messages.

DM Champ has no listing endpoint. Its generated contacts are one per person in
`population.members("dmchamp")` (record k belongs to person `members[k]`); the population
places all of them in another provider too, so a sync can find them by looking up people it
already knows. Contact ids are 24-hex ObjectIds that encode k (`sandbox.ids`).

Auth: query parameter `apiKey`; missing or wrong -> 401 with the plain-text body
`Unauthorized`. Errors: 400 `{"error": "..."}`, 404 `{"success": false, "message": "..."}`.

Decisions where the docs are silent:
- Phone numbers are parsed like libphonenumber without a default region (the docs: "must
  include valid country code"): a leading "+" is required, formatting (spaces, dashes,
  brackets, a "(0)" trunk) is ignored and the match is on the E.164 digits. A number without
  "+" (national, bare digits, or a "+" sent unencoded in the query string, which arrives as a
  space) or an impossible one -> 400 `{"error": "Invalid phone number"}`. (assumed)
- GET /contacts with both `phoneNumber` and `email` looks up by phone only; with neither
  -> 400. Emails match trimmed and case-insensitively; a value that is not an email -> 400.
  When several contacts share an email, the oldest one answers. (assumed)
- A generated contact of a person with a secondary phone was created with that phone half of
  the time (then its email is always set): only that phone or the email finds it. About 80%
  of the other generated contacts carry the person's email. (assumed)
- POST /contacts stores the phone in E.164; without `email` the contact has no email (the
  docs' default is an obfuscated placeholder); a `listIds` entry that is not a list id -> 404
  `List not found` and nothing is created; a duplicate phone -> 400
  `{"error": "Contact already exists", "contactId"}` even when listIds are given. (assumed)
- A body that is not a JSON object, or a documented field of the wrong type -> 400. (assumed)
- PUT /contacts/{contactId}: unknown contact -> 404 before the body is checked; only the
  documented fields are applied (the phone cannot change), others are ignored. (assumed)
- Lists are the fixed `LISTS` below; their ids are not discoverable through the API. Adding a
  contact twice, or removing one that is not in the list, succeeds and changes nothing; an
  unknown list -> 404 `List not found` (checked before the contact); a missing contactId or
  listId -> 400. At the start only `list_newsletter` has members (3% of the contacts, drawn
  from the seed). (assumed)
- Tags: 0-3 per generated contact from `TAGS`; contacts created later have none. Messages:
  0-6 per generated contact, between its creation and the end of the generated history;
  created contacts start with none. Message ids are 24-hex ObjectIds unique across contacts;
  `channel` is one of `CHANNELS`. (assumed)
- 429 and 5xx answer `{"error": "..."}`. (assumed)

Churn: updated contacts get new messages (stamped now) and/or a new name; created contacts
are people who are in another provider but not yet in DM Champ (so a sync can find them);
deleted contacts vanish with their messages, tags and list memberships.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import phonenumbers
from crmsync.sandbox.clock import BASE_END_MS, Timeline, iso_ms, mix, mix_array, now_ms
from crmsync.sandbox.credentials import DMCHAMP_API_KEY
from crmsync.sandbox.ids import k_from_object_id, object_id_for
from crmsync.sandbox.population import FIRST_NAMES, LAST_NAMES, Person
from crmsync.sandbox.provider import Provider, pick_share
from crmsync.sandbox.table import Record, Table
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute

if TYPE_CHECKING:
    from crmsync.sandbox.world import World

# The sandbox account's lists: {listId: name}. The user maps segments to these ids.
LISTS = {
    "list_high_value": "High value customers",
    "list_stalled_deals": "Stalled deals",
    "list_inactive_optin": "Inactive opted-in",
    "list_multi_provider": "Multi-provider customers",
    "list_newsletter": "Newsletter",
    "list_spare_1": "Spare list 1",
    "list_spare_2": "Spare list 2",
    "list_spare_3": "Spare list 3",
}
NEWSLETTER_LIST = "list_newsletter"
NEWSLETTER_PERCENT = 3  # of generated contacts, in the newsletter list from the start

TAGS = (
    ("vip", "High-value customer"),
    ("lead", "Showed interest, has not bought yet"),
    ("customer", "Bought at least once"),
    ("support", "Opened a support conversation"),
    ("newsletter", "Asked for the newsletter"),
    ("churn-risk", "Did not answer the last campaigns"),
    ("instagram", "Came in through Instagram"),
    ("referral", "Referred by another customer"),
)
# Number of tags by (hash % 10): most contacts have none or one.
TAG_COUNT_BY_ROLL = np.array([0, 0, 0, 0, 1, 1, 1, 2, 2, 3])
MAX_GENERATED_MESSAGES = 6
CHANNELS = ("whatsapp", "whatsapp", "whatsapp", "whatsapp", "instagram", "messenger", "sms")
INBOUND_TEXTS = (
    "Hi, is this still available?",
    "How much is delivery to {city}?",
    "Can I pay on delivery?",
    "Thanks!",
    "What are your opening hours?",
    "STOP",
    "I want to place an order",
)
OUTBOUND_TEXTS = (
    "Hello {first}, thanks for reaching out!",
    "Your order has been confirmed.",
    "Here is our catalogue: https://example.com/catalogue",
    "Reminder: your appointment is tomorrow.",
    "{first}, we have a new offer for you this week.",
)
EMAIL_SHARE = 0.8
SECONDARY_PHONE_SHARE = 0.5

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_OPTIONAL_STRINGS = ("instagramId", "currentCampaign", "channel", "externalId",
                     "customChannel", "chatWidgetId")
_BOOLEANS = ("isChatWindowOpen", "is_bot_active", "do_not_disturb")
# Salts of the per-contact hashes (each folded with the seed).
_ID, _TIMELINE, _RECORD, _MESSAGES, _TAGS, _NEWSLETTER = range(0xD0, 0xD6)
# Generated message ids use seq k * _MESSAGE_SLOTS + i; churn messages come after all of them.
_MESSAGE_SLOTS = MAX_GENERATED_MESSAGES + 1


class DmChamp(Provider):
    name = "dmchamp"
    prefix = "/dmchamp/v1"
    credentials = {"api_key": DMCHAMP_API_KEY}

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self._salt = mix(self.population.seed, 0xDC)
        self.members = self.population.members(self.name)
        n = len(self.members)
        self.contacts = Table(n, self._make_contact, self.contact_id,
                              Timeline(n, self._salt + _TIMELINE))
        self._person_of_created: dict[int, int] = {}
        self._created_phones: dict[str, int] = {}  # E.164 digits -> k created through the API
        self._written_emails: dict[str, list[int]] = {}  # email -> ks that got it through a write
        self._lists: dict[str, set[int]] = {list_id: set() for list_id in LISTS}
        self._lists[NEWSLETTER_LIST] = set(self._initial_newsletter(n).tolist())
        self._new_messages: dict[int, list[Record]] = {}
        self._next_message_seq = n * _MESSAGE_SLOTS

    # -- HTTP ---------------------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        return [
            self.route("/contacts", self._get_contact, ["GET"]),
            self.route("/contacts", self._create_contact, ["POST"]),
            self.route("/contacts/lists", self._add_to_list, ["POST"]),
            self.route("/contacts/lists", self._remove_from_list, ["DELETE"]),
            self.route("/contacts/tags/{contactId}", self._tags, ["GET"]),
            self.route("/contacts/messages/{contactId}", self._messages, ["GET"]),
            self.route("/contacts/{contactId}", self._update_contact, ["PUT"]),
        ]

    def authenticate(self, request: Request) -> Response | None:
        if request.query_params.get("apiKey") == DMCHAMP_API_KEY:
            return None
        return self.error(401, "Unauthorized")

    def error(self, status: int, message: str) -> Response:
        if status == 401:
            return PlainTextResponse("Unauthorized", status_code=401)
        if status == 404:
            return JSONResponse({"success": False, "message": message}, status_code=404)
        return JSONResponse({"error": message}, status_code=status)

    async def _get_contact(self, request: Request) -> Response:
        phone = request.query_params.get("phoneNumber")
        email = request.query_params.get("email")
        if phone:
            digits = phone_digits(phone)
            if digits is None:
                return self.error(400, "Invalid phone number")
            k = self.find_by_phone(digits)
        elif email:
            if not is_email(email):
                return self.error(400, "Invalid email")
            k = self.find_by_email(email)
        else:
            return self.error(400, "phoneNumber or email is required")
        if k is None:
            return self.error(404, "Contact not found")
        return self.ok({"success": True, "contactId": self.contact_id(k)})

    async def _create_contact(self, request: Request) -> Response:
        body = await self.json_body(request)
        if not isinstance(body, dict):
            return self.error(400, "Invalid request body")
        if not body.get("phoneNumber"):
            return self.error(400, "phoneNumber is required")
        digits = phone_digits(body["phoneNumber"])
        if digits is None:
            return self.error(400, "Invalid phone number")
        problem = _field_problem(body, ("firstName", "lastName"))
        if problem:
            return self.error(400, problem)
        list_ids = body.get("listIds", [])
        if not isinstance(list_ids, list) or not all(isinstance(i, str) for i in list_ids):
            return self.error(400, "listIds must be an array of list ids")
        existing = self.find_by_phone(digits)
        if existing is not None:
            return JSONResponse({"error": "Contact already exists",
                                 "contactId": self.contact_id(existing)}, status_code=400)
        if any(list_id not in LISTS for list_id in list_ids):
            return self.error(404, "List not found")
        k = self.create_contact(digits, body, now_ms())
        for list_id in list_ids:
            self._lists[list_id].add(k)
        return self.ok({"success": True, "contactId": self.contact_id(k)})

    async def _update_contact(self, request: Request) -> Response:
        k = self.k_of(request.path_params["contactId"])
        if k is None:
            return self.error(404, "Contact not found")
        body = await self.json_body(request)
        if not isinstance(body, dict):
            return self.error(400, "Invalid request body")
        problem = _field_problem(body, ("firstName", "lastName"), optional_strings=())
        if problem:
            return self.error(400, problem)
        changes = {f: body[f] for f in ("firstName", "lastName", "email", "is_bot_active",
                                        "do_not_disturb") if f in body}
        self.update_contact(k, changes, now_ms())
        return self.ok({"success": True, "message": "Contact updated successfully"})

    async def _add_to_list(self, request: Request) -> Response:
        return await self._change_list(request, add=True)

    async def _remove_from_list(self, request: Request) -> Response:
        return await self._change_list(request, add=False)

    async def _change_list(self, request: Request, add: bool) -> Response:
        body = await self.json_body(request)
        if not isinstance(body, dict) or not all(
            isinstance(body.get(f), str) and body[f] for f in ("contactId", "listId")
        ):
            return self.error(400, "contactId and listId are required")
        list_id = body["listId"]
        if list_id not in LISTS:
            return self.error(404, "List not found")
        k = self.k_of(body["contactId"])
        if k is None:
            return self.error(404, "Contact not found")
        if add:
            self._lists[list_id].add(k)
            message = f"Contact successfully added to list {LISTS[list_id]}"
        else:
            self._lists[list_id].discard(k)
            message = f"Contact successfully removed from list {LISTS[list_id]}"
        return self.ok({"success": True, "message": message})

    async def _tags(self, request: Request) -> Response:
        k = self.k_of(request.path_params["contactId"])
        if k is None:
            return self.error(404, "Contact not found")
        return self.ok(self.tags(k))

    async def _messages(self, request: Request) -> Response:
        k = self.k_of(request.path_params["contactId"])
        if k is None:
            return self.error(404, "Contact not found")
        return self.ok(self.messages(k))

    # -- contacts -------------------------------------------------------------------------
    def contact_id(self, k: int) -> str:
        return object_id_for(k, self._salt + _ID, self.contacts.created_ms(k))

    def k_of(self, contact_id: str) -> int | None:
        """The live contact behind an id, or None (ids of other seeds or deleted contacts)."""
        k = k_from_object_id(contact_id)
        if k is None or not self.contacts.exists(k) or self.contact_id(k) != contact_id:
            return None
        return k

    def person_of(self, k: int) -> int:
        return int(self.members[k]) if k < self.contacts.n_base else self._person_of_created[k]

    def _make_contact(self, k: int) -> Record:
        person = self.population.person(int(self.members[k]))
        rng = random.Random(mix(k, self._salt + _RECORD))
        national = person.national
        if person.secondary_national and rng.random() < SECONDARY_PHONE_SHARE:
            national = person.secondary_national
        has_email = national != person.national or rng.random() < EMAIL_SHARE
        channel = rng.choice(CHANNELS)
        return {
            "contactId": self.contact_id(k),
            "phoneNumber": f"+{person.calling_code}{national}",
            "firstName": person.first_name,
            "lastName": person.last_name,
            "email": person.email if has_email else None,
            "instagramId": _instagram_handle(person) if channel == "instagram" else None,
            "currentCampaign": None,
            "currentCampaignData": None,
            "channel": channel,
            "isChatWindowOpen": False,
            "externalId": None,
            "customChannel": None,
            "chatWidgetId": None,
            "is_bot_active": rng.random() < 0.9,
            "do_not_disturb": rng.random() < 0.05,
            "createdAt": iso_ms(self.contacts.created_ms(k)),
            "updatedAt": iso_ms(self.contacts.updated_ms(k)),
        }

    def find_by_phone(self, digits: str) -> int | None:
        """The live contact whose phone has these E.164 digits."""
        k = self._created_phones.get(digits)
        if k is not None and self._phone_of(k) == digits:
            return k
        k = self._generated_k(self.population.person_from_phone(digits))
        if k is not None and self._phone_of(k) == digits:
            return k
        return None

    def find_by_email(self, email: str) -> int | None:
        """The oldest live contact with this email (trimmed, any case)."""
        wanted = email.strip().lower()
        candidates = list(self._written_emails.get(wanted, ()))
        generated = self._generated_k(self.population.person_from_email(wanted))
        if generated is not None:
            candidates.append(generated)
        matches = [k for k in candidates if self._email_of(k) == wanted]
        return min(matches) if matches else None

    def _generated_k(self, person: int | None) -> int | None:
        if person is None:
            return None
        k = int(np.searchsorted(self.members, person))
        return k if k < len(self.members) and self.members[k] == person else None

    def _phone_of(self, k: int) -> str | None:
        record = self.contacts.get(k)
        return record["phoneNumber"].lstrip("+") if record else None

    def _email_of(self, k: int) -> str | None:
        record = self.contacts.get(k)
        return record["email"].strip().lower() if record and record["email"] else None

    def create_contact(self, digits: str, fields: dict, created_ms: int) -> int:
        """A new contact for the E.164 `digits`, from a POST body's fields."""
        person = self.population.person_from_phone(digits)
        if person is None:
            person = self.population.adopt(f"+{digits}", fields.get("firstName") or "",
                                           fields.get("email")).index

        def build(k: int) -> Record:
            record = {
                "contactId": self.contact_id(k),
                "phoneNumber": f"+{digits}",
                "firstName": fields.get("firstName") or "Unknown",
                "lastName": fields.get("lastName") or "Unknown",
                "email": fields.get("email"),
                "currentCampaignData": fields.get("currentCampaignData"),
                "isChatWindowOpen": fields.get("isChatWindowOpen", False),
                "is_bot_active": fields.get("is_bot_active", True),
                "do_not_disturb": fields.get("do_not_disturb", False),
                "createdAt": iso_ms(created_ms),
                "updatedAt": iso_ms(created_ms),
            }
            record.update({f: fields.get(f) for f in _OPTIONAL_STRINGS})
            return record

        k = self.contacts.create(build, created_ms)
        self._person_of_created[k] = person
        self._created_phones[digits] = k
        self._remember_email(k, fields.get("email"))
        return k

    def update_contact(self, k: int, changes: dict, updated_ms: int) -> None:
        record = {**self.contacts.get(k), **changes, "updatedAt": iso_ms(updated_ms)}
        self.contacts.put(k, record, updated_ms)
        self._remember_email(k, changes.get("email"))

    def _remember_email(self, k: int, email: str | None) -> None:
        if email:
            self._written_emails.setdefault(email.strip().lower(), []).append(k)

    def delete_contact(self, k: int) -> None:
        self.contacts.delete(k)
        for members in self._lists.values():
            members.discard(k)
        self._new_messages.pop(k, None)

    # -- tags and messages ------------------------------------------------------------------
    def tags(self, k: int) -> list[dict[str, str]]:
        if k >= self.contacts.n_base:
            return []
        h = mix(k, self._salt + _TAGS)
        picked = random.Random(h).sample(TAGS, int(TAG_COUNT_BY_ROLL[h % 10]))
        return [{"name": name, "description": description} for name, description in picked]

    def messages(self, k: int) -> list[Record]:
        """A contact's messages, oldest first: generated ones, then those added since."""
        return self._generated_messages(k) + self._new_messages.get(k, [])

    def _generated_messages(self, k: int) -> list[Record]:
        if k >= self.contacts.n_base:
            return []
        h = mix(k, self._salt + _MESSAGES)
        count = h % (MAX_GENERATED_MESSAGES + 1)
        rng = random.Random(h)
        start = self.contacts.created_ms(k)
        stamps = sorted(rng.randrange(start, BASE_END_MS) for _ in range(count))
        person = self.population.person(int(self.members[k]))
        return [self._message(k * _MESSAGE_SLOTS + i, ms, person, rng)
                for i, ms in enumerate(stamps)]

    def _message(self, seq: int, created_ms: int, person: Person, rng: random.Random) -> Record:
        direction = rng.choice(("inbound", "outbound"))
        texts = INBOUND_TEXTS if direction == "inbound" else OUTBOUND_TEXTS
        return {
            "id": object_id_for(seq, self._salt + _MESSAGES, created_ms),
            "direction": direction,
            "channel": rng.choice(CHANNELS),
            "text": rng.choice(texts).format(first=person.first_name, city=person.city),
            "createdAt": iso_ms(created_ms),
        }

    def add_message(self, k: int, rng: random.Random, created_ms: int) -> str:
        seq = self._next_message_seq
        self._next_message_seq += 1
        message = self._message(seq, created_ms, self.population.person(self.person_of(k)), rng)
        self._new_messages.setdefault(k, []).append(message)
        return message["id"]

    # -- admin ---------------------------------------------------------------------------
    def accounts(self) -> Iterator[tuple[int, str]]:
        for k in self.contacts.alive():
            yield self.person_of(int(k)), self.contact_id(int(k))

    def counts(self) -> dict[str, int]:
        alive = self.contacts.alive()
        base = alive[alive < self.contacts.n_base]
        messages = mix_array(base, self._salt + _MESSAGES) % np.uint64(MAX_GENERATED_MESSAGES + 1)
        tags = TAG_COUNT_BY_ROLL[mix_array(base, self._salt + _TAGS) % np.uint64(10)]
        return {
            "contacts": len(alive),
            "messages": int(messages.sum()) + sum(map(len, self._new_messages.values())),
            "contact_tags": int(tags.sum()),
        }

    def memberships(self) -> dict[str, list[str]]:
        return {list_id: [self.contact_id(k) for k in sorted(ks)]
                for list_id, ks in self._lists.items()}

    def churn(self, rng: random.Random, update: float, create: float, delete: float) -> dict:
        alive = self.contacts.alive()
        n_update = pick_share(rng, len(alive), update)
        n_delete = pick_share(rng, len(alive), delete)
        # One draw for both, so no contact is reported as both updated and deleted.
        n_picked = min(len(alive), n_update + n_delete)
        picked = [int(alive[i]) for i in rng.sample(range(len(alive)), n_picked)]
        stamp = now_ms()
        updated, deleted = picked[:n_update], picked[n_update:]
        new_messages = self._churn_updates(rng, updated, stamp)
        deleted_ids = [self.contact_id(k) for k in deleted]
        gone_messages = [m["id"] for k in deleted for m in self.messages(k)]
        for k in deleted:
            self.delete_contact(k)
        created = self._churn_creates(rng, pick_share(rng, len(alive), create), stamp)
        return {
            "contacts": {"updated": [self.contact_id(k) for k in updated],
                         "created": [self.contact_id(k) for k in created],
                         "deleted": deleted_ids},
            "messages": {"updated": [], "created": new_messages, "deleted": gone_messages},
        }

    def _churn_updates(self, rng: random.Random, ks: list[int], stamp: int) -> list[str]:
        """New messages (most contacts) and/or a new name (some): a conversation went on."""
        new_messages = []
        for k in ks:
            roll = rng.random()
            changes = {}
            if roll < 0.35:
                changes = {"firstName": rng.choice(FIRST_NAMES), "lastName": rng.choice(LAST_NAMES)}
            if roll >= 0.2:
                new_messages += [self.add_message(k, rng, stamp) for _ in range(rng.randint(1, 3))]
            self.update_contact(k, changes, stamp)
        return new_messages

    def _churn_creates(self, rng: random.Random, n: int, stamp: int) -> list[int]:
        """Contacts for generated people who are elsewhere but not yet in DM Champ."""
        created: list[int] = []
        for _attempt in range(50 * n):
            if len(created) == n:
                break
            index = rng.randrange(self.population.size)
            if self.population.is_junk(index) or self.name in self.population.providers_of(index):
                continue
            person = self.population.person(index)
            digits = f"{person.calling_code}{person.national}"
            if self.find_by_phone(digits) is not None:
                continue
            fields = {"firstName": person.first_name, "lastName": person.last_name,
                      "email": person.email if rng.random() < EMAIL_SHARE else None}
            created.append(self.create_contact(digits, fields, stamp))
        return created

    def _initial_newsletter(self, n: int) -> np.ndarray:
        rolls = mix_array(np.arange(n), self._salt + _NEWSLETTER) % np.uint64(100)
        return np.flatnonzero(rolls < NEWSLETTER_PERCENT)


def phone_digits(value: Any) -> str | None:
    """The E.164 digits of an international number, or None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:]


def is_email(value: Any) -> bool:
    return isinstance(value, str) and bool(_EMAIL.match(value.strip()))


def _field_problem(body: dict, names: tuple[str, ...],
                   optional_strings: tuple[str, ...] = _OPTIONAL_STRINGS) -> str | None:
    """Why a create/update body's documented fields are malformed, or None."""
    for field in names:
        if field in body and not isinstance(body[field], str):
            return f"{field} must be a string"
    for field in optional_strings:
        if body.get(field) is not None and not isinstance(body[field], str):
            return f"{field} must be a string or null"
    for field in _BOOLEANS:
        if field in body and not isinstance(body[field], bool):
            return f"{field} must be a boolean"
    if body.get("email") is not None and not is_email(body["email"]):
        return "Invalid email"
    return None


def _instagram_handle(person: Person) -> str:
    return f"{person.first_name.lower()}.{person.last_name.lower()}{person.index}"
