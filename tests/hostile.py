"""Small servers that misbehave on purpose (loops, echoes, bad bodies), over real HTTP on a
free loopback port, for the client's defences."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx

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


@contextmanager
def refusing(upstream: str, path: str, status: int = 404, query: str = "") -> Iterator[str]:
    """The base URL of a proxy to `upstream` (e.g. the sandbox) that answers `status` to every
    request whose path matches the regular expression `path` (and its query string `query`),
    and forwards the rest."""
    refused, in_query = re.compile(path), re.compile(query)

    with httpx.Client(base_url=upstream, timeout=60, limits=httpx.Limits(max_keepalive_connections=32)) as client:

        async def endpoint(request: Request) -> Response:
            if refused.search(request.url.path) and in_query.search(request.url.query):
                return json_response(b'{"detail": "Not found"}', status)
            headers = {k: v for k, v in request.headers.items() if k not in ("host", "content-length")}
            answer = await asyncio.to_thread(client.request, request.method, request.url.path,
                                             params=request.query_params, headers=headers,
                                             content=await request.body())
            return Response(answer.content, answer.status_code, media_type=answer.headers.get("content-type"))

        with serving_app(Starlette(routes=[Route("/{path:path}", endpoint,
                                                 methods=["GET", "POST", "PUT", "DELETE"])])) as url:
            yield url
