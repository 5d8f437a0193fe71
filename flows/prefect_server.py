"""The Prefect API `crmsync serve` registers its schedules with.

When PREFECT_API_URL is set, that server. Otherwise a local `prefect server start` lives as
long as serve does: Prefect's own fallback, a temporary in-process server, runs no scheduler
service, so served crons would never produce a run (measured: none in 4 minutes on a
one-minute cron). The local server keeps its history in PREFECT_HOME like any other.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from prefect.settings import PREFECT_API_URL, temporary_settings

from crmsync.kernel.child_server import answers, stop, wait_until_answers
from crmsync.kernel.errors import UserError


@contextmanager
def prefect_api(port: int, log_file: Path, startup_seconds: float,
                say: Callable[[str], None] = print) -> Iterator[str]:
    """Yield the API URL in use, starting and finally stopping a local server if none is set."""
    configured = PREFECT_API_URL.value()
    if configured:
        yield configured
        return
    url = f"http://127.0.0.1:{port}/api"
    if answers(f"{url}/health"):
        raise UserError(f"a Prefect server already answers on port {port}: set PREFECT_API_URL={url} "
                        "to use it, or flow.server_port to start another")
    with log_file.open("ab") as log:
        server = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                                   "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    try:
        say(f"starting a local Prefect server on {url} (log: {log_file}) ...")
        problem = wait_until_answers(f"{url}/health", server, startup_seconds)
        if problem:
            raise UserError(f"the local Prefect server {problem} (flow.server_startup_seconds: "
                            f"{startup_seconds:g}); see {log_file}")
        say(f"Prefect UI at http://127.0.0.1:{port}")
        with temporary_settings({PREFECT_API_URL: url}):
            yield url
    finally:
        stop(server, grace_s=30)
