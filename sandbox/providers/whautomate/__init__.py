"""Whautomate emulator (CONTRACT.md section 3; docs/whautomate-segments.md).

Contacts, clients, contact tags, criteria segments and messages under `/whautomate/v1`,
authenticated by the `x-api-key` header (bad or missing: 403 `{"message": "Forbidden"}`).
Lists are bare JSON arrays paged by `limit` (default 20, 1..100) and `page` (from 1), newest
`createdAt` first, so records created during a scan shift later pages; an empty array ends a
listing; there is no time filter. Bad paging parameters: 400 `{"error": "Invalid
parameters"}`; bad bodies: 400 `{"message": "Invalid request body"}`; unknown ids: 404
`{"message": "Not found"}` (assumed); rate limited: 429 `{"message": "Too Many Requests"}`.

The data: one contact per Whautomate person of the population (junk people keep their junk
text as phoneNumber and have no email), phones in every international shape, emails as people
typed them; about 30% of those people (never junk ones) also have a client record; seven
defined contactTags; two criteria segments; 0..6 messages per contact. createdAt, updatedAt
and lastActivity are ISO with milliseconds and Z; changes are stamped with the current time.
Churn edits contacts (stage, notes, customFields, or new messages that move lastActivity),
adds contacts (a new person, or one known elsewhere), deletes contacts with their messages,
and retags or moves clients; every change moves updatedAt.

Decisions where the contract is silent, all (assumed):
- `tags` on GET /contacts is comma-separated and matches contacts with any of the tags,
  case-insensitively; `searchText` is a case-insensitive substring of name, phone or email,
  and a phone also matches on its digits alone. Clients are listed with paging only.
- POST /contacts answers the contact (200). A phone that already belongs to a live contact:
  400 `{"message": "Contact already exists"}`; a phone that is no valid international
  number: 400 `{"message": "Invalid phone number"}`. Missing fields default to stage
  Subscriber, channel whatsapp, the account's first location, no tags, empty notes and
  customFields. Keys other than the documented fields are ignored; `stage` must be one of
  Subscriber, Lead, Customer, Inactive.
- PUT /contacts/{id} replaces the fields it carries (customFields whole) and always bumps
  updatedAt; DELETE answers `{"success": true}`.
- POST /contacts/{id}/tags/add and /tags/remove take `{"tags": [...]}` (at least one name)
  and answer the contact; names match exactly; updatedAt moves only when the tags changed.
  Every added name that is not a contactTag yet (by canonical form) becomes one.
- Some contacts carry hand-made tags ("vip", "newsletter", "called back") typed in the app,
  which have no contactTag definition until added through the API.
- POST /contactTags with a name whose canonical form exists: 400 `{"message": "Contact tag
  already exists"}`. Canonical = lower case, other characters as single dashes.
- Client tags are their own vocabulary: adding one creates no contactTag.
- Segment `type` is "client" or "contact"; criteria keys are those of the docs, anything
  else is refused; a body `id` is ignored; the default location is the first one.
  Segments are shown exactly as the docs' sample (no timestamps).
- GET /messages/{contactId}: every message of the contact, oldest first, unpaged;
  inbound messages have status "received"; messages of a deleted contact are gone (404).
- Record ids are 24 hex digits encoding k; their time part follows the generated timeline,
  never the wall clock, so a churn answer is the same for the same seeds.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import TYPE_CHECKING

from crmsync.sandbox.credentials import WHAUTOMATE_API_KEY
from crmsync.sandbox.provider import Provider
from crmsync.sandbox.providers.whautomate.churn import churn
from crmsync.sandbox.providers.whautomate.handlers import Handlers
from crmsync.sandbox.providers.whautomate.requests import guarded
from crmsync.sandbox.providers.whautomate.state import WhautomateState
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

if TYPE_CHECKING:
    from crmsync.sandbox.world import World


class Whautomate(Provider):
    name = "whautomate"
    prefix = "/whautomate/v1"
    credentials = {"api_key": WHAUTOMATE_API_KEY}

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.state = WhautomateState(self.population, world.seed)

    def routes(self) -> list[BaseRoute]:
        handlers = Handlers(self.state, self.population)
        return [self.route(path, guarded(handler), methods)
                for path, handler, methods in handlers.endpoints()]

    def authenticate(self, request: Request) -> Response | None:
        if request.headers.get("x-api-key") == WHAUTOMATE_API_KEY:
            return None
        return self.error(403, "Forbidden")

    def error(self, status: int, message: str) -> Response:
        if status == 429:
            message = "Too Many Requests"  # the API gateway's wording, whatever the cause
        return JSONResponse({"message": message}, status_code=status)

    def accounts(self) -> Iterator[tuple[int, str]]:
        return self.state.accounts()

    def counts(self) -> dict[str, int]:
        return self.state.counts()

    def memberships(self) -> dict[str, list[str]]:
        return self.state.memberships()

    def churn(self, rng: random.Random, update: float, create: float, delete: float) -> dict:
        return churn(self.state, self.population, rng, update, create, delete)
