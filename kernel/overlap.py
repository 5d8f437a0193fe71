"""The overlap guard: one writer at a time per warehouse.

A lock file beside the warehouse holds the pid and start time of the run that owns it. It
is created atomically (O_EXCL), so two runs starting together cannot both win. A lock whose
pid is no longer alive is stale (the run was killed) and is taken over, so a crash never
blocks the schedule for good.

Whoever starts the work takes it: a flow run (`crmsync run`, `crmsync serve`) for its whole
sync -> transform -> push, and the `sync`, `transform` and `push` commands for theirs. The
plain functions those call take no lock, so a flow that holds it calls them freely.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from crmsync.kernel.errors import UserError


class RunInProgress(UserError):
    """Another live run holds the warehouse; the message says which and since when. A user
    error: the command said to wait for it ends at once (a flow run is skipped instead)."""


@dataclass(frozen=True)
class LockOwner:
    pid: int
    started_at: str
    flow: str

    def describe(self) -> str:
        return f"run {self.flow!r} (pid {self.pid}) has held it since {self.started_at}"


def lock_path(warehouse: Path) -> Path:
    return warehouse.parent / f".{warehouse.name}.run.lock"


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


def read_owner(path: Path) -> LockOwner | None:
    """The lock's owner, or None when the file is gone or unreadable (half-written: stale)."""
    try:
        data = json.loads(path.read_text())
        return LockOwner(int(data["pid"]), str(data["started_at"]), str(data.get("flow", "?")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def acquire(warehouse: Path, flow: str, pid: int | None = None) -> LockOwner:
    """Take the warehouse's lock or raise RunInProgress; a stale lock is replaced."""
    path = lock_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    me = LockOwner(pid or os.getpid(), datetime.now(UTC).isoformat(timespec="seconds"), flow)
    for _ in range(2):  # at most once more, after removing a stale lock
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            owner = read_owner(path)
            if owner is not None and pid_alive(owner.pid):
                raise RunInProgress(f"{warehouse} is in use: {owner.describe()}") from None
            path.unlink(missing_ok=True)
            continue
        with os.fdopen(fd, "w") as handle:
            json.dump(me.__dict__, handle)
        return me
    raise RunInProgress(f"could not take {path}: another run keeps creating it")


def release(warehouse: Path, owner: LockOwner) -> None:
    """Remove the lock if it is still ours (never another run's)."""
    path = lock_path(warehouse)
    if read_owner(path) == owner:
        path.unlink(missing_ok=True)


@contextmanager
def run_lock(warehouse: Path, flow: str) -> Iterator[LockOwner]:
    owner = acquire(warehouse, flow)
    try:
        yield owner
    finally:
        release(warehouse, owner)
