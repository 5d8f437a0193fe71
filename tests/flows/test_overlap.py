"""The overlap guard: a live owner blocks, a dead or unreadable one is taken over."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crmsync.kernel.overlap import RunInProgress, acquire, lock_path, read_owner, release, run_lock


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_second_run_is_refused_and_told_who_holds_it(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    with run_lock(warehouse, "crmsync-sync") as owner:
        assert read_owner(lock_path(warehouse)) == owner
        with pytest.raises(RunInProgress, match=rf"crmsync-sync.*pid {os.getpid()}"):
            acquire(warehouse, "crmsync-full-scan")
    assert not lock_path(warehouse).exists()


def test_lock_of_a_dead_process_is_stale_and_taken_over(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    lock_path(warehouse).write_text(json.dumps({"pid": dead_pid(), "started_at": "then", "flow": "old"}))
    owner = acquire(warehouse, "crmsync-sync")
    assert owner.pid == os.getpid()
    release(warehouse, owner)


def test_half_written_lock_is_stale(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    lock_path(warehouse).write_text("{")
    release(warehouse, acquire(warehouse, "crmsync-sync"))


def test_release_never_removes_another_runs_lock(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    mine = acquire(warehouse, "crmsync-sync")
    lock_path(warehouse).unlink()
    theirs = acquire(warehouse, "crmsync-full-scan")
    release(warehouse, mine)
    assert read_owner(lock_path(warehouse)) == theirs
