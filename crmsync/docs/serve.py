"""`crmsync docs --serve`: the site's folder over HTTP on loopback until interrupted."""

from __future__ import annotations

import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        """Requests are not worth a line each on the terminal."""


def site_server(folder: Path, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """A server of `folder` (port 0: a free one; its address is `server.server_address`)."""
    return ThreadingHTTPServer((host, port), functools.partial(QuietHandler, directory=str(folder)))
