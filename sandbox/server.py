"""Run the sandbox over real HTTP: in a background thread (tests, `--sandbox`) or in the
foreground until interrupted (`crmsync sandbox serve`)."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Self

import uvicorn
from crmsync.sandbox.app import create_app
from crmsync.sandbox.faults import Faults
from crmsync.sandbox.world import World
from starlette.types import ASGIApp


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _config(app, host: str, port: int) -> uvicorn.Config:
    # h11 and asyncio: the pure-Python stack behaves the same on every machine.
    return uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                          lifespan="off", timeout_keep_alive=30)


class AppServer:
    """An ASGI app on a free loopback port, in a daemon thread, for the length of a `with`."""

    def __init__(self, app: ASGIApp, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.app = app
        self.host = host
        self.port = port or free_port(host)
        self._server = uvicorn.Server(_config(self.app, self.host, self.port))
        self._thread = threading.Thread(target=self._server.run, name="crmsync-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start on {self.url}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


class SandboxServer(AppServer):
    """A sandbox on a free loopback port, in a daemon thread, for the length of a `with`."""

    def __init__(self, world: World | None = None, faults: Faults | None = None,
                 host: str = "127.0.0.1", port: int | None = None) -> None:
        self.world = world or World()
        super().__init__(create_app(self.world, faults), host, port)


def serve_forever(world: World, faults: Faults, host: str, port: int) -> None:
    uvicorn.Server(_config(create_app(world, faults), host, port)).run()
