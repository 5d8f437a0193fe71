"""Small servers that misbehave on purpose (loops, echoes, bad bodies), over real HTTP on a
free loopback port, for the client's defences."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from crmsync.sandbox.server import AppServer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

Handler = Callable[[Request], Response]


@contextmanager
def serving(handler: Handler) -> Iterator[str]:
    """The base URL of a server answering every request (any path, any method) with `handler`."""

    async def endpoint(request: Request) -> Response:
        await request.body()
        return handler(request)

    with serving_app(Starlette(routes=[Route("/{path:path}", endpoint,
                                             methods=["GET", "POST", "PUT", "DELETE"])])) as url:
        yield url


@contextmanager
def serving_app(app: Starlette) -> Iterator[str]:
    """The base URL of `app` served on a free loopback port for the length of the block."""
    with AppServer(app) as server:
        yield server.url


def json_response(body: bytes, status: int = 200, **headers: str) -> Response:
    """`body` sent as it is (it may be invalid on purpose), with a matching Content-Length."""
    return Response(body, status, headers=headers, media_type="application/json")
