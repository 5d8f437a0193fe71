"""What every emulated provider offers the sandbox: routes, auth, errors, truth and churn."""

from __future__ import annotations

import json
import random
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

if TYPE_CHECKING:
    from crmsync.sandbox.world import World

Handler = Callable[[Request], Awaitable[Response]]


def page_response(payload: Any, status: int = 200) -> Response:
    """JSON with orjson (installed with dlt): a page of records in a tenth of JSONResponse's
    time, and the same document."""
    try:
        body = orjson.dumps(payload)
    except TypeError:  # what a client may have written: an integer beyond 64 bits
        return JSONResponse(payload, status_code=status)
    return Response(body, status_code=status, media_type="application/json")


class Provider:
    """Base class of one provider's emulator. Subclasses fill in the class attributes and
    the abstract methods; handlers are `async` so all state changes happen on one thread."""

    name: str
    prefix: str  # where the provider is mounted, e.g. "/chatman/v1/public-apis"
    credentials: dict[str, str] = {}  # setting -> the value this sandbox accepts
    account_settings: dict[str, Any] = {}  # settings a user copies from their account

    def __init__(self, world: World) -> None:
        self.world = world
        self.population = world.population

    # -- HTTP ---------------------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        raise NotImplementedError

    def authenticate(self, request: Request) -> Response | None:
        """None when the request carries the sandbox credentials, else the provider's error."""
        raise NotImplementedError

    def error(self, status: int, message: str) -> Response:
        """The provider's error response (also used for injected 429 and 5xx)."""
        raise NotImplementedError

    def route(self, path: str, handler: Handler, methods: list[str], auth: bool = True) -> Route:
        """A route whose handler runs only for authenticated requests."""

        async def endpoint(request: Request) -> Response:
            if auth:
                denied = self.authenticate(request)
                if denied is not None:
                    return denied
            return await handler(request)

        return Route(path, endpoint, methods=methods)

    @staticmethod
    async def json_body(request: Request) -> Any:
        """The JSON body, or None when it is missing or not JSON."""
        raw = await request.body()
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return None

    @staticmethod
    def ok(payload: Any, status: int = 200) -> Response:
        return JSONResponse(payload, status_code=status)

    # -- admin ---------------------------------------------------------------------------
    def admin_routes(self) -> list[BaseRoute]:
        """What a person can do in the CRM's app that the API cannot (deleting a Chatman
        segment), for tests acting as that person; mounted at /_sandbox/<name>/."""
        return []

    def accounts(self) -> Iterator[tuple[int, str]]:
        """(person index, contact id) of every live contact; a person with several records
        here (Waabot groups) is listed once per record, the first one being their account."""
        raise NotImplementedError

    def counts(self) -> dict[str, int]:
        """Live records per resource, named as the warehouse tables will be."""
        raise NotImplementedError

    def memberships(self) -> dict[str, list[str]]:
        """Segment, list, tag or group name -> ids of the contacts in it."""
        raise NotImplementedError

    def churn(self, rng: random.Random, update: float, create: float, delete: float) -> dict:
        """Change that share of records the way real use would; return what changed:
        {"<resource>": {"updated": [ids], "created": [ids], "deleted": [ids]}}."""
        raise NotImplementedError


def pick_share(rng: random.Random, population: int, share: float) -> int:
    """How many of `population` records a share means (at least one when share > 0)."""
    if share <= 0 or population == 0:
        return 0
    return min(population, max(1, round(population * share)))
