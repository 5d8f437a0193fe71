"""Chatman's routes, auth and admin hooks over the stores in the sibling modules."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
from crmsync.sandbox.clock import BASE_END_MS, iso_ms, parse_iso_ms
from crmsync.sandbox.credentials import CHATMAN_API_KEY
from crmsync.sandbox.provider import Handler, Provider, page_response, pick_share
from crmsync.sandbox.providers.chatman.contacts import Contacts, phone_fields, wa_id_of
from crmsync.sandbox.providers.chatman.events import CAMPAIGN_IDS, CampaignEvents, TriggeredEvents
from crmsync.sandbox.providers.chatman.paging import (
    ApiError,
    choice_param,
    cursor_param,
    envelope,
    keyset,
    limit_param,
    time_param,
)
from crmsync.sandbox.providers.chatman.segments import SEGMENT_TYPES, Journeys, Segments
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

if TYPE_CHECKING:
    from crmsync.sandbox.world import World

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
MODES = ("all", "new", "modified")
MAX_WA_IDS = 100


class Chatman(Provider):
    name = "chatman"
    prefix = "/chatman/v1/public-apis"
    credentials = {"api_key": CHATMAN_API_KEY}
    account_settings = {"campaign_ids": list(CAMPAIGN_IDS)}  # not discoverable: a user lists them

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.contacts = Contacts(self.population, world.seed)
        self.events = TriggeredEvents(self.contacts, world.seed)
        self.campaigns = CampaignEvents(self.contacts, world.seed)
        self.segments = Segments(self.contacts, world.seed)
        self.journeys = Journeys(self.contacts, world.seed)

    # -- HTTP ------------------------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        return [
            self._path("/contacts/", GET=self.list_contacts, POST=self.add_contact),
            self._path("/contacts/details/", GET=self.contact_details),
            self._path("/contacts/update/", POST=self.update_contact),
            self._path("/contacts/check/", POST=self.check_contact),
            self._path("/contacts/{wa_id}/", GET=self.get_contact),
            self._path("/segments/", GET=self.list_segments, POST=self.create_segment),
            self._path("/segments/{segment_id}/evaluate/", POST=self.evaluate_segment),
            self._path("/segments/{segment_id}/subscribe/", POST=self.subscribe),
            self._path("/segments/{segment_id}/unsubscribe/", POST=self.unsubscribe),
            self._path("/events/custom/", GET=self.list_event_types, POST=self.create_event_type),
            self._path("/events/custom/triggered/", GET=self.list_triggered),
            self._path("/events/custom/triggered/{event_id}/", GET=self.get_triggered),
            self._path("/events/custom/trigger/", POST=self.trigger_event),
            self._path("/events/users/{user_id}/", GET=self.user_events),
            self._path("/events/campaigns/{campaign_id}/", GET=self.campaign_events),
            self._path("/journeys/", GET=self.list_journeys),
            self._path("/delete-journey/{journey_id}", DELETE=self.delete_journey),
            # Documented at the root: only a UUID matches, so it cannot shadow another path.
            self._path("/{journey_id:uuid}/users/", GET=self.journey_users),
            Route("/{path:path}", self._not_found, methods=METHODS),
        ]

    def _path(self, path: str, **handlers: Handler) -> Route:
        """One route per path: auth first, then the method (405 like the real API), and
        an ApiError raised by a handler becomes the provider's error body."""

        async def dispatch(request: Request) -> Response:
            handler = handlers.get("GET" if request.method == "HEAD" else request.method)
            if handler is None:
                return self.error(405, f'Method "{request.method}" not allowed.')
            try:
                return await handler(request)
            except ApiError as exc:
                return self.error(exc.status, exc.detail)

        return self.route(path, dispatch, METHODS)

    async def _not_found(self, request: Request) -> Response:
        return self.error(404, "Not found.")

    def authenticate(self, request: Request) -> Response | None:
        header = request.headers.get("authorization")
        if not header:
            return self._unauthorized("Authentication credentials were not provided.")
        if header != f"Bearer {CHATMAN_API_KEY}":
            return self._unauthorized("Invalid API key.")
        return None

    def _unauthorized(self, message: str) -> Response:
        response = self.error(401, message)
        response.headers["WWW-Authenticate"] = "Bearer"
        return response

    def error(self, status: int, message: str) -> Response:
        return JSONResponse({"detail": message}, status_code=status)

    @staticmethod
    def ok(payload: Any, status: int = 200) -> Response:
        return page_response(payload, status)

    # -- contacts ----------------------------------------------------------------------------
    async def list_contacts(self, request: Request) -> Response:
        mode = choice_param(request, "mode", MODES, "all")
        limit = limit_param(request)
        start, end = time_param(request, "start_time"), time_param(request, "end_time")
        kind = f"contacts:{mode}"
        after = cursor_param(request, kind)
        if mode == "all":
            start = end = None
        order = "updated" if mode == "modified" else "created"
        table = self.contacts.table
        records, next_key = table.scan(order, limit, after, start, end)
        return self.ok(envelope(kind, table.count(order, start, end), records, next_key))

    async def contact_details(self, request: Request) -> Response:
        raw = request.query_params.get("wa_ids", "")
        wa_ids = list(dict.fromkeys(w.strip() for w in raw.split(",") if w.strip()))
        if not wa_ids:
            raise ApiError(400, "wa_ids is required.")
        if len(wa_ids) > MAX_WA_IDS:
            raise ApiError(400, f"At most {MAX_WA_IDS} wa_ids per request.")
        ks = (self.contacts.find_wa_id(wa_id) for wa_id in wa_ids)
        return self.ok({"results": [self.contacts.table.get(k) for k in ks if k is not None]})

    async def get_contact(self, request: Request) -> Response:
        k = self.contacts.find_wa_id(request.path_params["wa_id"])
        if k is None:
            raise ApiError(404, "Not found.")
        return self.ok(self.contacts.table.get(k))

    async def add_contact(self, request: Request) -> Response:
        return self.ok(self.contacts.add(await self.json_body(request)), 201)

    async def update_contact(self, request: Request) -> Response:
        return self.ok(self.contacts.update(await self.json_body(request)))

    async def check_contact(self, request: Request) -> Response:
        wa_id, valid = wa_id_of(*phone_fields(await self.json_body(request)))
        return self.ok({"wa_id": wa_id, "valid": valid})

    # -- segments ----------------------------------------------------------------------------
    async def list_segments(self, request: Request) -> Response:
        limit = limit_param(request)
        search = request.query_params.get("search_key", "").lower()
        segment_type = choice_param(request, "segment_type", SEGMENT_TYPES, None)
        after = cursor_param(request, "segments")
        items = [(s.key, s.as_json()) for s in self.segments.all()
                 if search in s.name.lower() and segment_type in (None, s.segment_type)]
        page, next_key = keyset(items, after, limit)
        return self.ok(envelope("segments", len(items), page, next_key))

    async def create_segment(self, request: Request) -> Response:
        return self.ok(self.segments.create(await self.json_body(request)).as_json(), 201)

    async def evaluate_segment(self, request: Request) -> Response:
        segment = self.segments.get(request.path_params["segment_id"])
        return self.ok({"segment_id": segment.segment_id, "user_ids": self.segments.user_ids(segment)})

    async def subscribe(self, request: Request) -> Response:
        n = self.segments.change(request.path_params["segment_id"], await self.json_body(request), True)
        return self.ok({"subscribed": n})

    async def unsubscribe(self, request: Request) -> Response:
        n = self.segments.change(request.path_params["segment_id"], await self.json_body(request), False)
        return self.ok({"unsubscribed": n})

    # -- events ------------------------------------------------------------------------------
    async def list_event_types(self, request: Request) -> Response:
        limit = limit_param(request)
        after = cursor_param(request, "event-types")
        items = sorted(((t.created_ms, t.name), t.as_json()) for t in self.events.types.values())
        page, next_key = keyset(items, after, limit)
        return self.ok(envelope("event-types", len(items), page, next_key))

    async def create_event_type(self, request: Request) -> Response:
        return self.ok(self.events.add_type(await self.json_body(request)).as_json(), 201)

    async def list_triggered(self, request: Request) -> Response:
        limit = limit_param(request)
        start, end = time_param(request, "start_time"), time_param(request, "end_time")
        after = cursor_param(request, "triggered")
        table = self.events.table
        records, next_key = table.scan("created", limit, after, start, end)
        return self.ok(envelope("triggered", table.count("created", start, end), records, next_key))

    async def get_triggered(self, request: Request) -> Response:
        record = self.events.find(request.path_params["event_id"])
        if record is None:
            raise ApiError(404, "Not found.")
        return self.ok(record)

    async def trigger_event(self, request: Request) -> Response:
        return self.ok(self.events.trigger(await self.json_body(request)), 201)

    async def user_events(self, request: Request) -> Response:
        user_id = request.path_params["user_id"]
        k = self.contacts.find_user_id(user_id)
        if k is None:
            raise ApiError(404, "Not found.")
        limit = limit_param(request)
        kind = f"user-events:{user_id}"
        items = self.events.of_contact(k)
        page, next_key = keyset(items, cursor_param(request, kind), limit)
        return self.ok(envelope(kind, len(items), self.events.table.records(page), next_key))

    async def campaign_events(self, request: Request) -> Response:
        campaign_id = request.path_params["campaign_id"]
        if campaign_id not in CAMPAIGN_IDS:
            raise ApiError(404, "Not found.")
        limit = limit_param(request)
        kind = f"campaign:{campaign_id}"
        after = cursor_param(request, kind)
        total = len(self.campaigns.log(campaign_id)[0])
        # The log never changes, so a position is as good a key as (occurred_at, event_id).
        start = 0 if after is None else max(after[0] + 1, 0)
        stop = min(start + limit, total)
        results = self.campaigns.page(campaign_id, start, stop)
        next_key = (stop - 1, results[-1]["event_id"]) if results and stop < total else None
        return self.ok(envelope(kind, total, results, next_key))

    # -- journeys ----------------------------------------------------------------------------
    async def list_journeys(self, request: Request) -> Response:
        limit = limit_param(request)
        search = request.query_params.get("search_key", "").lower()
        after = cursor_param(request, "journeys")
        items = [(j.key, self.journeys.as_json(j)) for j in self.journeys.all() if search in j.name.lower()]
        page, next_key = keyset(items, after, limit)
        return self.ok(envelope("journeys", len(items), page, next_key))

    async def journey_users(self, request: Request) -> Response:
        journey = self.journeys.get(str(request.path_params["journey_id"]))
        limit = limit_param(request)
        kind = f"journey-users:{journey.journey_id}"
        after = cursor_param(request, kind)
        users = self.journeys.users(journey)
        start = 0 if after is None else int(np.searchsorted(users, after[0], "right"))
        ks = users[start:start + limit].tolist()
        records = self.contacts.table.records(ks)
        results = [self.journeys.user_json(journey, k, record) for k, record in zip(ks, records)]
        next_key = (ks[-1], results[-1]["user_id"]) if start + limit < len(users) and ks else None
        return self.ok(envelope(kind, len(users), results, next_key))

    async def delete_journey(self, request: Request) -> Response:
        self.journeys.delete(request.path_params["journey_id"])
        return Response(status_code=204)

    # -- admin -------------------------------------------------------------------------------
    def admin_routes(self) -> list[BaseRoute]:
        """Deleting a segment or a contact, as a person does in the app: the API has no
        endpoint for either (CONTRACT.md section 1). Importing a contact that keeps its own
        `modified_at`: the contract leaves a new contact's modified_at open."""
        return [
            self._path("/segments/{segment_id}/", DELETE=self.delete_segment),
            self._path("/contacts/import/", POST=self.import_contact),
            self._path("/contacts/{user_id}/", DELETE=self.delete_contact),
        ]

    async def import_contact(self, request: Request) -> Response:
        """The add body plus `modified_at` (ISO), after the generated history."""
        body = await self.json_body(request)
        try:
            modified_ms = parse_iso_ms(str(body.pop("modified_at")))
        except (AttributeError, KeyError, ValueError):
            raise ApiError(400, "modified_at (ISO) is required.") from None
        if modified_ms <= BASE_END_MS:
            raise ApiError(400, f"modified_at must be after {iso_ms(BASE_END_MS)} (the generated history).")
        return self.ok(self.contacts.add(body, modified_ms), 201)

    async def delete_segment(self, request: Request) -> Response:
        self.segments.delete(request.path_params["segment_id"])
        return Response(status_code=204)

    async def delete_contact(self, request: Request) -> Response:
        k = self.contacts.find_user_id(request.path_params["user_id"])
        if k is None:
            raise ApiError(404, "Not found.")
        self.contacts.table.delete(k)
        self.segments.forget([k])
        return Response(status_code=204)

    def accounts(self) -> Iterator[tuple[int, str]]:
        for k in self.contacts.table.alive().tolist():
            yield self.contacts.person_of(k), self.contacts.user_id(k)

    def counts(self) -> dict[str, int]:
        return {
            "contacts": len(self.contacts.table),
            "triggered_events": len(self.events.table),
            "campaign_events": self.campaigns.count(),
            "segments": len(self.segments),
            "journeys": len(self.journeys),
        }

    def memberships(self) -> dict[str, list[str]]:
        return {s.name: self.segments.user_ids(s) for s in self.segments.all()}

    def churn(self, rng: random.Random, update: float, create: float, delete: float) -> dict[str, Any]:
        live = len(self.contacts.table)
        changed = self.contacts.churn(rng, pick_share(rng, live, update), pick_share(rng, live, create),
                                      pick_share(rng, live, delete))
        self.segments.forget(changed["deleted"])
        events = self.events.churn(rng, pick_share(rng, len(self.events.table), create))
        return {
            "contacts": {what: [self.contacts.user_id(k) for k in ks] for what, ks in changed.items()},
            "triggered_events": {"updated": [], "created": events, "deleted": []},
        }
