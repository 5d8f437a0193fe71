"""Waabot's HTTP routes: sessions, contacts and contact groups (see the package docstring)."""

from __future__ import annotations

import random
import re
from collections.abc import AsyncIterator, Iterator
from itertools import count
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
from crmsync.sandbox.clock import now_ms
from crmsync.sandbox.credentials import (
    WAABOT_EMAIL,
    WAABOT_INSTANCE_TOKEN,
    WAABOT_PASSWORD,
    WAABOT_SESSION_ID,
)
from crmsync.sandbox.provider import Handler, Provider
from crmsync.sandbox.providers.waabot import tokens
from crmsync.sandbox.providers.waabot.churn import churn
from crmsync.sandbox.providers.waabot.contacts import ContactBook
from crmsync.sandbox.providers.waabot.groups import ACCOUNT_CLIENT_ID, Groups
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

if TYPE_CHECKING:
    from crmsync.sandbox.world import World

STREAM_CHUNK = 2000  # records serialised per chunk of the full listing
ACCESS_TTL_S = 900
_NON_DIGITS = re.compile(r"\D")
MIN_PHONE_DIGITS = 8  # fewer digits than this is not a phone: the record gets no person
DELETED = {"n": 1, "ok": 1, "deletedCount": 1}


def envelope(message: str, data: Any, status: int = 200) -> Response:
    return JSONResponse({"status": True, "message": message, "data": data}, status_code=status)


class Waabot(Provider):
    name = "waabot"
    prefix = "/waabot/api/v1"
    credentials = {"email": WAABOT_EMAIL, "password": WAABOT_PASSWORD, "session_id": WAABOT_SESSION_ID,
                   "access_token": WAABOT_INSTANCE_TOKEN}

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.access_ttl_s = ACCESS_TTL_S  # tests lower it to see tokens expire
        self.groups = Groups()
        self.contacts = ContactBook(self.population, self.groups)
        self._sessions = count(1)

    # -- HTTP plumbing -----------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        return [
            self.route("/sessions", self.login, ["POST"], auth=False),
            self.route("/contact", self.list_contacts, ["GET"]),
            self.route("/contact", self.create_contact, ["POST"]),
            self.route("/contact/{contact_id}", self.get_contact, ["GET"]),
            self.route("/contact/{contact_id}", self.update_contact, ["PUT"]),
            self.route("/contact/{contact_id}", self.delete_contact, ["DELETE"]),
            self.route("/contact_groups", self.list_groups, ["GET"]),
            self.route("/contact_groups", self.create_group, ["POST"]),
            self.route("/contact_groups/{group_id}", self.get_group, ["GET"]),
            self.route("/contact_groups/{group_id}", self.update_group, ["PUT"]),
            self.route("/contact_groups/{group_id}", self.delete_group, ["DELETE"]),
        ]

    def route(self, path: str, handler: Handler, methods: list[str], auth: bool = True) -> Route:
        """Like the base route, plus the instance credentials and the re-issued access token."""

        async def endpoint(request: Request) -> Response:
            if not auth:
                return await handler(request)
            denied, fresh = self._check_tokens(request)
            if denied is not None:
                return denied
            response = await self._check_instance(request) or await handler(request)
            if fresh is not None:
                response.headers["x-access-token"] = fresh
            return response

        return Route(path, endpoint, methods=methods)

    def authenticate(self, request: Request) -> Response | None:
        return self._check_tokens(request)[0]

    def _check_tokens(self, request: Request) -> tuple[Response | None, str | None]:
        """(the 401, None) or (None, a fresh access token when the presented one expired)."""
        scheme, _, access = request.headers.get("authorization", "").partition(" ")
        access_claims = tokens.claims_of(access.strip(), "access")
        refresh_claims = tokens.claims_of(request.headers.get("x-refresh", ""), "refresh")
        if (scheme.lower() != "bearer" or access_claims is None or refresh_claims is None
                or tokens.expired(refresh_claims)):
            return self.error(401, "Unauthorized"), None
        if not tokens.expired(access_claims):
            return None, None
        fresh = tokens.issue("access", access_claims["sub"], access_claims["session"],
                             self.access_ttl_s)
        return None, fresh

    async def _check_instance(self, request: Request) -> Response | None:
        """The WhatsApp instance credentials: query string on GET and DELETE, else JSON body."""
        if request.method in ("GET", "DELETE"):
            given: Any = request.query_params
        else:
            given = await self.json_body(request)
            given = given if isinstance(given, dict) else {}
        if (given.get("session_id") != WAABOT_SESSION_ID
                or given.get("access_token") != WAABOT_INSTANCE_TOKEN):
            return self.error(401, "Invalid instance credentials")
        return None

    def error(self, status: int, message: str) -> Response:
        return JSONResponse({"status": False, "message": message, "data": None}, status_code=status)

    # -- sessions ------------------------------------------------------------------------
    async def login(self, request: Request) -> Response:
        body = await self.json_body(request)
        if not isinstance(body, dict) or (body.get("email"), body.get("password")) != (
                WAABOT_EMAIL, WAABOT_PASSWORD):
            return self.error(401, "Invalid email or password")
        session = next(self._sessions)
        return envelope("Login successful!", {
            "accessToken": tokens.issue("access", ACCOUNT_CLIENT_ID, session, self.access_ttl_s),
            "refreshToken": tokens.issue("refresh", ACCOUNT_CLIENT_ID, session,
                                         tokens.REFRESH_TTL_S),
            "user": {"_id": ACCOUNT_CLIENT_ID, "email": WAABOT_EMAIL},
        })

    # -- contacts ------------------------------------------------------------------------
    async def list_contacts(self, request: Request) -> Response:
        client = None if request.query_params.get("type") == "all" else ACCOUNT_CLIENT_ID
        return StreamingResponse(self._stream(self.contacts.newest_first(), client),
                                 media_type="application/json")

    async def _stream(self, ks: np.ndarray, client: str | None) -> AsyncIterator[bytes]:
        """The envelope around every listed record, serialised a chunk at a time so the whole
        body never sits in memory. Records changed while streaming show their new state and
        deleted ones are skipped, like a database cursor."""
        yield b'{"status":true,"message":"Contact fetched successfully!","data":['
        separator = b""
        for start in range(0, len(ks), STREAM_CHUNK):
            records = self.contacts.listed(ks[start:start + STREAM_CHUNK], client)
            if records:
                yield separator + orjson.dumps(records)[1:-1]
                separator = b","
        yield b"]}"

    async def get_contact(self, request: Request) -> Response:
        k = self.contacts.k_of(request.path_params["contact_id"])
        if k is None:
            return self.error(404, "Contact not found")
        return envelope("Contact fetched successfully!", self.contacts.get(k))

    async def create_contact(self, request: Request) -> Response:
        fields = _contact_fields(await self.json_body(request), required=True)
        if fields is None:
            return self.error(400, "name, number and group_id are required")
        if self._my_group(fields["group_id"]) is None:
            return self.error(404, "Contact group not found")
        if self._taken(fields["number"], fields["group_id"], None):
            return self.error(400, "Contact already exists in this group")
        created = self.contacts.create(self._person_for(fields), fields["name"], fields["number"],
                                       fields["group_id"], ACCOUNT_CLIENT_ID, now_ms())
        return envelope("Contact created successfully!", created, status=201)

    async def update_contact(self, request: Request) -> Response:
        k = self.contacts.k_of(request.path_params["contact_id"])
        if k is None:
            return self.error(404, "Contact not found")
        fields = _contact_fields(await self.json_body(request), required=False)
        if fields is None:
            return self.error(400, "name, number and group_id must be text")
        if "group_id" in fields and self._my_group(fields["group_id"]) is None:
            return self.error(404, "Contact group not found")
        current = self.contacts.get(k)
        placed = {**current, **fields}
        if ((placed["number"], placed["group_id"]) != (current["number"], current["group_id"])
                and self._taken(placed["number"], placed["group_id"], k)):
            return self.error(400, "Contact already exists in this group")
        updated = self.contacts.update(k, current, fields, now_ms())
        return envelope("Contact updated successfully!", updated)

    async def delete_contact(self, request: Request) -> Response:
        k = self.contacts.k_of(request.path_params["contact_id"])
        if k is None:
            return self.error(404, "Contact not found")
        self.contacts.delete(k)
        return envelope("Contact deleted successfully!", DELETED)

    def _taken(self, number: str, group_id: str, moving: int | None) -> bool:
        """Whether another record already has this exact number in the group."""
        return any(self.contacts.group_of(k) == group_id
                   for k in self.contacts.holders(number) if k != moving)

    def _person_for(self, fields: dict[str, str]) -> int | None:
        """Who a number written through the API belongs to; a new person for an unknown phone."""
        digits = _NON_DIGITS.sub("", fields["number"])
        person = self.population.person_from_phone(digits)
        if person is None and len(digits) >= MIN_PHONE_DIGITS:
            person = self.population.adopt("+" + digits, fields["name"].split(" ")[0]).index
        return person

    # -- groups --------------------------------------------------------------------------
    def _my_group(self, group_id: str) -> dict | None:
        group = self.groups.get(group_id)
        return group if group is not None and group["client_id"] == ACCOUNT_CLIENT_ID else None

    async def list_groups(self, request: Request) -> Response:
        return envelope("ContactGroup group fetched successfully!",
                        self.groups.of_client(ACCOUNT_CLIENT_ID))

    async def create_group(self, request: Request) -> Response:
        title = _title(await self.json_body(request))
        if title is None:
            return self.error(400, "title is required")
        group = self.groups.create(title, ACCOUNT_CLIENT_ID)
        return envelope("ContactGroup group created successfully!", group, status=201)

    async def get_group(self, request: Request) -> Response:
        group = self._my_group(request.path_params["group_id"])
        if group is None:
            return self.error(404, "Contact group not found")
        return envelope("ContactGroup group fetched successfully!", group)

    async def update_group(self, request: Request) -> Response:
        group = self._my_group(request.path_params["group_id"])
        if group is None:
            return self.error(404, "Contact group not found")
        title = _title(await self.json_body(request))
        if title is None:
            return self.error(400, "title is required")
        return envelope("ContactGroup group updated successfully!",
                        self.groups.rename(group["_id"], title))

    async def delete_group(self, request: Request) -> Response:
        group = self._my_group(request.path_params["group_id"])
        if group is None:
            return self.error(404, "Contact group not found")
        self.contacts.delete_group(group["_id"])
        self.groups.delete(group["_id"])
        return envelope("ContactGroup group deleted successfully!", DELETED)

    # -- admin ---------------------------------------------------------------------------
    def accounts(self) -> Iterator[tuple[int, str]]:
        return self.contacts.accounts()

    def counts(self) -> dict[str, int]:
        return {"contacts": len(self.contacts.table),
                "contact_groups": len(self.groups.of_client(ACCOUNT_CLIENT_ID))}

    def memberships(self) -> dict[str, list[str]]:
        """The account's groups by title (titles may repeat: their records are merged)."""
        titles = {g["_id"]: g["title"] for g in self.groups.of_client(ACCOUNT_CLIENT_ID)}
        members: dict[str, list[str]] = {title: [] for title in titles.values()}
        for k in self.contacts.table.alive():
            title = titles.get(self.contacts.group_of(int(k)))
            if title is not None:
                members[title].append(self.contacts.id_of(int(k)))
        return members

    def churn(self, rng: random.Random, update: float, create: float, delete: float) -> dict:
        return churn(self.contacts, self.population, rng, update, create, delete)


def _contact_fields(body: Any, required: bool) -> dict[str, str] | None:
    """name, number and group_id from a body (numbers may come as JSON numbers); None when a
    required one is missing or one is not text. Other keys are ignored."""
    if not isinstance(body, dict):
        return None
    fields = {}
    for key in ("name", "number", "group_id"):
        value = body.get(key)
        if key == "number" and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if value is None and not required:
            continue
        if not isinstance(value, str) or not value.strip():
            return None
        fields[key] = value
    return fields


def _title(body: Any) -> str | None:
    title = body.get("title") if isinstance(body, dict) else None
    return title if isinstance(title, str) and title.strip() else None
