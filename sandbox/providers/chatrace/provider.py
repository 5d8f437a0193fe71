"""The Chatrace provider: routes, auth, errors and the admin hooks."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import TYPE_CHECKING

from crmsync.sandbox.credentials import CHATRACE_TOKEN
from crmsync.sandbox.provider import Handler, Provider
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from .catalog import BOT_FIELDS, PIPELINES
from .churn import churn
from .commerce import Commerce
from .contacts import ContactStore
from .params import ApiError
from .pipelines import OpportunityStore
from .routes_accounts import account_routes
from .routes_commerce import commerce_routes
from .routes_contacts import contact_routes
from .routes_pipelines import pipeline_routes

if TYPE_CHECKING:
    from crmsync.sandbox.world import World

RouteSpec = tuple[str, Handler, list[str]]
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


class Chatrace(Provider):
    name = "chatrace"
    prefix = "/chatrace"
    credentials = {"access_token": CHATRACE_TOKEN}

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.contacts = ContactStore(self.population)
        self.opportunities = OpportunityStore(self.contacts)
        self.commerce = Commerce(self.contacts)
        self.bot_fields = {fid: {"id": fid, "name": name, "type": ftype, "value": value}
                           for fid, name, ftype, value in BOT_FIELDS}
        self.links_made = 0

    # -- HTTP -----------------------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        # Commerce first: its /contacts/{id}/send/products must win over /send/{flow_id}.
        specs = (commerce_routes(self) + account_routes(self) + contact_routes(self)
                 + pipeline_routes(self))
        routes = [self.route(path, self._guarded(handler), methods) for path, handler, methods in specs]
        routes.append(self.route("/{path:path}", self._guarded(self._unknown), ALL_METHODS))
        return routes

    def _guarded(self, handler: Handler) -> Handler:
        """Turn an ApiError raised anywhere below the handler into the provider's error."""

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except ApiError as problem:
                return self.error(problem.status, problem.message)

        return guarded

    @staticmethod
    async def _unknown(request: Request) -> Response:
        raise ApiError(404, "Not found")

    def authenticate(self, request: Request) -> Response | None:
        token = request.headers.get("x-access-token")
        if token is None:
            return self.error(401, "Missing access token: send the X-ACCESS-TOKEN header")
        if token != CHATRACE_TOKEN:
            return self.error(401, "Invalid access token")
        return None

    def error(self, status: int, message: str) -> Response:
        return JSONResponse({"error": {"code": status, "message": message}}, status_code=status)

    # -- admin ----------------------------------------------------------------------------
    def accounts(self) -> Iterator[tuple[int, str]]:
        return self.contacts.accounts()

    def counts(self) -> dict[str, int]:
        return {
            "contacts": len(self.contacts.table),
            "opportunities": self.opportunities.count(),
            "opportunity_comments": self.opportunities.comment_count(),
            "orders": len(self.commerce.table),
            "pipelines": len(PIPELINES),
            "stages": sum(len(spec[3]) for spec in PIPELINES),
            "tags": len(self.contacts.tags),
            "custom_fields": len(self.contacts.fields),
        }

    def memberships(self) -> dict[str, list[str]]:
        return self.contacts.memberships()

    def churn(self, rng: random.Random, update: float, create: float, delete: float) -> dict:
        return churn(self, rng, update, create, delete)


