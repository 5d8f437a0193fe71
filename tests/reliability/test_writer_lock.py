"""`crmsync sync`, `transform` and `push` take the lock `crmsync run` takes: one started while
another process holds it stops at once (exit 2) with one line naming the holder and its pid,
writing nothing; the lock goes when the command ends, on an error too, and a holder killed
with SIGKILL leaves a lock the next command takes over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from crmsync.kernel.overlap import lock_path, read_owner

from tests.reliability.bad_input_fixtures import clear_configuration, run_cli, snapshot, without_configuration
from tests.transforms.model_tree import load_raw, write_tree

TREE = {
    "marts/people.sql": "-- materialized: table\nSELECT id AS person_id FROM raw_s.people\n",
    "segments/everyone.sql": '-- push: waabot group "Everyone"\nSELECT person_id FROM crm.people\n',
}
HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from crmsync.kernel.overlap import acquire
    acquire(Path(sys.argv[1]), "crmsync transform")
    print("held", flush=True)
    time.sleep(300)
""")


@pytest.fixture()
def warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    clear_configuration(monkeypatch)
    path = tmp_path / "w.duckdb"
    load_raw(path, "raw_s.people", "id VARCHAR", [("p1",), ("p2",)])
    return path


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "transforms", TREE)


def hold(warehouse: Path) -> subprocess.Popen:
    """Another process holding the warehouse's lock until it is killed."""
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(warehouse)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    return holder


@pytest.fixture()
def holder(warehouse: Path) -> Iterator[subprocess.Popen]:
    process = hold(warehouse)
    yield process
    process.kill()
    process.wait()


@pytest.mark.parametrize("command", [["sync", "--provider", "chatman"], ["transform", "--transforms", "{root}"],
                                     ["push", "--transforms", "{root}"]])
def test_a_writer_started_while_another_holds_the_warehouse_stops_naming_it(
        warehouse: Path, root: Path, holder: subprocess.Popen, command: list[str], capsys, monkeypatch) -> None:
    owner = read_owner(lock_path(warehouse))
    assert owner is not None and owner.pid == holder.pid
    before = snapshot(warehouse)
    args = [arg.format(root=root) for arg in command]
    result = run_cli(capsys, monkeypatch, *args, "--warehouse", str(warehouse))
    assert result.code == 2
    assert result.error_lines() == [f"error: {warehouse} is in use: run 'crmsync transform' (pid {holder.pid}) "
                                    f"has held it since {owner.started_at}"], result.stderr
    assert snapshot(warehouse) == before
    assert read_owner(lock_path(warehouse)) == owner  # still the holder's


def test_the_command_holds_the_lock_while_it_writes_and_lets_it_go(warehouse: Path, tmp_path: Path) -> None:
    slow = write_tree(tmp_path / "slow", {**TREE, "marts/busy.sql": "-- materialized: table\n"
                                          "SELECT count(*) AS n FROM range(300000000)\n"})
    command = subprocess.Popen([sys.executable, "-m", "crmsync", "transform", "--warehouse", str(warehouse),
                                "--transforms", str(slow)], stderr=subprocess.PIPE, text=True,
                               env=without_configuration())
    owners: set[tuple[int, str]] = set()
    while command.poll() is None:
        owner = read_owner(lock_path(warehouse))
        owners |= {(owner.pid, owner.flow)} if owner else set()
        time.sleep(0.005)
    assert command.returncode == 0, command.stderr.read() if command.stderr else ""
    assert owners == {(command.pid, "crmsync transform")}
    assert not lock_path(warehouse).exists()


def test_a_failing_command_lets_the_lock_go(warehouse: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    failing = write_tree(tmp_path / "failing", {**TREE, "segments/bad.sql": "SELECT 1 AS nobody\n"})
    result = run_cli(capsys, monkeypatch, "transform", "--warehouse", str(warehouse), "--transforms", str(failing))
    assert result.code == 2 and "returns no person_id column" in result.stderr, result.stderr
    assert not lock_path(warehouse).exists()


def test_a_holder_killed_with_sigkill_leaves_a_lock_the_next_command_takes_over(
        warehouse: Path, root: Path, capsys, monkeypatch) -> None:
    holder = hold(warehouse)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    stale = read_owner(lock_path(warehouse))
    assert stale is not None and stale.pid == holder.pid  # nothing removed it
    result = run_cli(capsys, monkeypatch, "transform", "--warehouse", str(warehouse), "--transforms", str(root))
    assert result.code == 0, result.stderr
    assert not lock_path(warehouse).exists()
