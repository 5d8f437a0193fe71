"""`crmsync run`: the sync flow (or the full-scan flow) once, in this process, against the
configured providers or one sandbox for the whole loop."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from crmsync.flows.console import CONSOLE_LEVEL
from crmsync.flows.job import full_scan_flow, sync_flow
from crmsync.flows.progress import RunProgress, reporting
from crmsync.kernel.errors import UserError
from crmsync.sandbox.link import linked_sandbox
from crmsync.sources import registry



def run_once(warehouse: Path, sandbox: str | None = None, push: bool = True, transforms: Path | None = None,
             providers: list[str] | None = None, full_scan: bool = False,
             progress: RunProgress | None = None) -> dict[str, Any]:
    """Run the sync flow (the full-scan flow with `full_scan`) once and return its summary
    (see RunSummary.as_dict); a flow that crashed outside its steps gives
    {"state": "failed", "reason": ...}. `progress` hears each step as it goes."""
    for name in providers or []:
        registry.provider(name)  # an unknown name is a UserError before any flow starts
    chosen = full_scan_flow if full_scan else sync_flow
    # One sandbox for sync and push alike: the flow's tasks run in this process's threads,
    # where linked_sandbox's environment applies.
    quiet_prefect_console()
    temporary_server(progress)
    with linked_sandbox(sandbox), reporting(progress):
        state = chosen(warehouse=str(warehouse.absolute()), push=push, providers=providers or None,
                       transforms=str(transforms) if transforms else None, return_state=True)
    value = state.result(raise_on_failure=False)
    if isinstance(value, dict):
        return {**value, "prefect_state": state.type.value}
    return {"state": "failed", "reason": f"{type(value).__name__}: {value}", "prefect_state": state.type.value}


def temporary_server(progress: RunProgress | None) -> None:
    """With no PREFECT_API_URL, Prefect's temporary server, started here rather than by the
    flow's first call (it is the same one): starting takes seconds to a minute, which the
    progress says, and a server that does not start is one line, not a traceback."""
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED

    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        return
    from prefect.server.api.server import SubprocessASGIServer

    if progress is not None:
        progress.begin("prefect-server")
    server = SubprocessASGIServer()
    try:
        server.start()
    except RuntimeError as error:
        raise UserError(f"Prefect's temporary server did not start ({error}); set PREFECT_API_URL to a running "
                        "server, or raise PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS") from None
    if progress is not None:
        progress.end("prefect-server", f"temporary, on {server.address} until crmsync exits")


def quiet_prefect_console() -> None:
    """Prefect's INFO lines on the terminal (the temporary server's banner, "Beginning flow
    run", one "Finished in state Completed()" per task, "Stopping temporary server" at exit)
    say nothing crmsync's own report does not: from now on in this process its console
    handler shows warnings and errors only. The run's logs still reach the Prefect API and
    its UI in full. Left alone when the user set PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL."""
    if os.environ.get(CONSOLE_LEVEL):
        return
    from prefect.logging.handlers import PrefectConsoleHandler

    for handler in logging.getLogger().handlers:
        if isinstance(handler, PrefectConsoleHandler):
            handler.setLevel(max(handler.level, logging.WARNING))
