"""`crmsync run`: the sync flow once, in this process, against the configured providers or
one sandbox for the whole loop."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crmsync.sandbox.link import linked_sandbox
from crmsync.flows.job import sync_flow


def run_once(warehouse: Path, sandbox: str | None = None, push: bool = True,
             transforms: Path | None = None) -> dict[str, Any]:
    """Run the sync flow once and return its summary (see RunSummary.as_dict); a flow that
    crashed outside its steps gives {"state": "failed", "reason": ...}."""
    # One sandbox for sync and push alike: the flow's tasks run in this process's threads,
    # where linked_sandbox's environment applies.
    with linked_sandbox(sandbox):
        state = sync_flow(warehouse=str(warehouse.absolute()), push=push,
                          transforms=str(transforms) if transforms else None, return_state=True)
    value = state.result(raise_on_failure=False)
    if isinstance(value, dict):
        return {**value, "prefect_state": state.type.value}
    return {"state": "failed", "reason": f"{type(value).__name__}: {value}", "prefect_state": state.type.value}
