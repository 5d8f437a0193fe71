"""DuckLake tests: a real PostgreSQL 16 (pgserver, from its wheel) started once per test session
as the catalog, a fresh catalog database and data folder per test, the providers pointed at the
test's sandbox."""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from crmsync.kernel.lake import Lake
from crmsync.kernel.warehouse import open_warehouse, parse_warehouse
from crmsync.sandbox.link import sandbox_environment
from crmsync.sandbox.server import SandboxServer

_databases = itertools.count()


@pytest.fixture(scope="session")
def postgres() -> Iterator[object]:
    """One PostgreSQL server for the session (its unix socket in its data folder). The folder
    is not under pytest's, which pgserver's own user (it runs as root too) cannot enter."""
    import pgserver

    folder = tempfile.mkdtemp(prefix="crmsync-postgres-")
    server = pgserver.get_server(folder, cleanup_mode="stop")
    yield server
    server.cleanup()
    shutil.rmtree(folder, ignore_errors=True)


def new_lake(postgres: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
             data_path: str | None = None) -> Lake:
    """A lake on a new catalog database; its data under `data_path` (default: a test folder)."""
    database = f"lake_{os.getpid()}_{next(_databases)}"
    postgres.psql(f"CREATE DATABASE {database};")
    monkeypatch.setenv("WAREHOUSE__DATA_PATH", data_path or str(tmp_path / "lake-data"))
    monkeypatch.setenv("CRMSYNC_PIPELINES_DIR", str(tmp_path / "pipelines"))
    socket_folder = postgres.get_uri().split("host=", 1)[1]
    return parse_warehouse(f"ducklake:postgres:dbname={database} user=postgres host={socket_folder}", tmp_path)


@pytest.fixture()
def lake(postgres: object, tmp_path: Path, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> Lake:
    """A fresh lake, with every provider pointed at the test's sandbox."""
    for key, value in sandbox_environment(sandbox.url).items():
        monkeypatch.setenv(key, value)
    return new_lake(postgres, tmp_path, monkeypatch)


def lake_query(lake: Lake, sql: str) -> list[tuple]:
    with open_warehouse(lake, read_only=True) as con:
        return con.execute(sql).fetchall()
