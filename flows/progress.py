"""Who hears a run's progress while it goes: `crmsync run` prints it on stderr; a flow run
under `crmsync serve` or a worker has no listener (its logs are its record).

The listener is the process's, not a flow parameter: parameters are serialised to the
Prefect API, and the tasks run in this process's threads, where a module value reaches.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol


class RunProgress(Protocol):
    def begin(self, task: str) -> None:
        """A task run begins (`sync-chatman`, `transform`, `push`)."""

    def end(self, task: str, outcome: str) -> None:
        """A task run ended: `outcome` says how, in a few words."""

    def rows(self, provider: str, table: str, rows: int) -> None:
        """A provider's sync has read `rows` of `table` so far."""

    def members(self, target: str, done: int, total: int) -> None:
        """A push target has sent `done` of its `total` membership changes."""


_listener: RunProgress | None = None


def listener() -> RunProgress | None:
    return _listener


@contextmanager
def reporting(progress: RunProgress | None) -> Iterator[None]:
    """`progress` hears the runs of this process for the length of the block."""
    global _listener
    previous, _listener = _listener, progress
    try:
        yield
    finally:
        _listener = previous
