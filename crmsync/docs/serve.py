"""`crmsync docs --serve`: the site's folder over HTTP on loopback until interrupted, and one
page the static files cannot hold: `/person?q=ID|PHONE|EMAIL`, a person looked up in the
warehouse as `crmsync person` does (their records, segment stays and pushes)."""

from __future__ import annotations

import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from crmsync.docs.render import person_page
from crmsync.kernel.errors import UserError
from crmsync.person import find_people


class SiteHandler(SimpleHTTPRequestHandler):
    warehouse: Path

    def do_GET(self) -> None:  # noqa: N802 - the base class's name
        address = urlsplit(self.path)
        if address.path != "/person":
            super().do_GET()
            return
        wanted = parse_qs(address.query).get("q", [""])[0].strip()
        try:
            body, status = person_page(wanted, find_people(self.warehouse, wanted) if wanted else []), 200
        except UserError as error:  # nobody found, no model yet: said on the page
            body, status = person_page(wanted, [], str(error)), 404
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        """Requests are not worth a line each on the terminal."""


def site_server(folder: Path, warehouse: Path, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """A server of `folder` and of person look-ups in `warehouse` (port 0: a free one; its
    address is `server.server_address`)."""
    handler = type("Handler", (SiteHandler,), {"warehouse": warehouse})
    return ThreadingHTTPServer((host, port), functools.partial(handler, directory=str(folder)))
