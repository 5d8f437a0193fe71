"""Helpers of the bad-input and secrets tests: the real CLI run in this process (or in a
subprocess where dlt must read a project folder), a sandbox per module, warehouse snapshots."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from crmsync.cli import main
from crmsync.sandbox.link import sandbox_environment
from crmsync.sandbox.server import SandboxServer
from crmsync.sandbox.world import World

# Environment variables that configure crmsync; a test starts without any of them.
CONFIG_PREFIXES = ("SOURCES__", "FLOW__", "PUSH__", "WAREHOUSE__", "TRANSFORM__", "CRMSYNC_")


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def run_cli(capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch, *args: str) -> CliResult:
    """`crmsync <args>` through its real entry point, in this process. An exception escaping
    main() is what a user would see as a traceback: it fails the test."""
    capsys.readouterr()
    monkeypatch.setattr(sys, "argv", ["crmsync", *args])
    try:
        main()
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    captured = capsys.readouterr()
    return CliResult(code, captured.out, captured.err)


def run_cli_process(*args: str, env: dict[str, str], cwd: Path, timeout: float = 180) -> CliResult:
    """`crmsync <args>` as a user runs it: its own process, its own working folder."""
    done = subprocess.run([sys.executable, "-m", "crmsync", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=timeout)
    return CliResult(done.returncode, done.stdout, done.stderr)


def without_configuration() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(CONFIG_PREFIXES)}


def clear_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith(CONFIG_PREFIXES):
            monkeypatch.delenv(key)


def point_at(monkeypatch: pytest.MonkeyPatch, sandbox: SandboxServer, pipelines: Path) -> None:
    """Every provider at `sandbox` with its credentials, dlt's folders under `pipelines`."""
    clear_configuration(monkeypatch)
    for key, value in sandbox_environment(sandbox.url).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("CRMSYNC_PIPELINES_DIR", str(pipelines))


def snapshot(warehouse: Path) -> dict[str, int] | None:
    """Every table of the warehouse with its row count; None when there is no file."""
    if not warehouse.exists():
        return None
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = con.execute("SELECT schema_name, table_name FROM duckdb_tables() ORDER BY 1, 2").fetchall()
        return {f"{schema}.{table}": con.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()[0]
                for schema, table in names}


def files_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


@pytest.fixture(scope="module")
def small_sandbox() -> Iterator[SandboxServer]:
    """One sandbox for a module whose tests do not change its data."""
    with SandboxServer(World(seed=7, contacts=150)) as server:
        yield server
