"""Run the sandbox over real HTTP: in a background thread (tests, `--sandbox`) or in the
foreground until interrupted (`crmsync sandbox serve`)."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn

from crmsync.sandbox.app import create_app
from crmsync.sandbox.faults import Faults
from crmsync.sandbox.world import World


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _config(app, host: str, port: int) -> uvicorn.Config:
    # h11 and asyncio: the pure-Python stack behaves the same on every machine.
    return uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                          lifespan="off", timeout_keep_alive=30)


class SandboxServer:
    """A sandbox on a free loopback port, in a daemon thread, for the length of a `with`."""

    def __init__(self, world: World | None = None, faults: Faults | None = None,
                 host: str = "127.0.0.1", port: int | None = None) -> None:
        self.world = world or World()
        self.app = create_app(self.world, faults)
        self.host = host
        self.port = port or free_port(host)
        self._server = uvicorn.Server(_config(self.app, self.host, self.port))
        self._thread = threading.Thread(target=self._server.run, name="crmsync-sandbox", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> SandboxServer:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the sandbox did not start on {self.url}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def serve_forever(world: World, faults: Faults, host: str, port: int) -> None:
    uvicorn.Server(_config(create_app(world, faults), host, port)).run()
