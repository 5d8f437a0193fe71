"""Small servers that misbehave on purpose (loops, echoes, bad bodies), over real HTTP on a
free loopback port, for the client's defences."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import uvicorn
from crmsync.sandbox.server import free_port
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
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, name="hostile-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def json_response(body: bytes, status: int = 200, **headers: str) -> Response:
    """`body` sent as it is (it may be invalid on purpose), with a matching Content-Length."""
    return Response(body, status, headers=headers, media_type="application/json")
