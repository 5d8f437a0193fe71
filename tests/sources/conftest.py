"""Sync tests: a sandbox, a temporary warehouse and dlt directory, the sandbox's settings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import httpx
import pytest

from crmsync.sandbox_link import sandbox_environment
from pipelines.sync import ProviderResult, sync_provider
from sandbox.server import SandboxServer

SyncOnce = Callable[..., ProviderResult]


@pytest.fixture()
def warehouse(tmp_path: Path, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh warehouse path, with every provider pointed at the test's sandbox."""
    for key, value in sandbox_environment(sandbox.url).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("CRMSYNC_PIPELINES_DIR", str(tmp_path / "pipelines"))
    return tmp_path / "warehouse.duckdb"


@pytest.fixture()
def sync_once(warehouse: Path) -> SyncOnce:
    """Sync one provider into the test warehouse; fail the test if the sync failed."""

    def run(provider: str, expect_ok: bool = True, **options: object) -> ProviderResult:
        result = sync_provider(provider, warehouse, **options)
        if expect_ok:
            assert result.status == "ok", result.error
        return result

    return run


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def truth(sandbox: SandboxServer) -> dict:
    return httpx.get(f"{sandbox.url}/_sandbox/truth", timeout=60).json()


def churn(sandbox: SandboxServer, **shares: float) -> dict:
    return httpx.post(f"{sandbox.url}/_sandbox/churn", json=shares, timeout=60).json()


def set_faults(sandbox: SandboxServer, **faults: object) -> None:
    httpx.post(f"{sandbox.url}/_sandbox/faults", json=faults, timeout=10).raise_for_status()


@pytest.fixture()
def live_ids(warehouse: Path) -> Callable[[str, str, str], set[str]]:
    def ids(schema_table: str, key: str, where: str = "deleted_at IS NULL") -> set[str]:
        return {str(r[0]) for r in query(warehouse, f"SELECT {key} FROM {schema_table} WHERE {where}")}

    return ids


@pytest.fixture()
def no_duplicates(warehouse: Path) -> Callable[[str, str], None]:
    def check(schema_table: str, key: str) -> None:
        rows = query(warehouse, f"SELECT {key}, count(*) FROM {schema_table} GROUP BY 1 HAVING count(*) > 1")
        assert rows == [], f"duplicate keys in {schema_table}: {rows[:5]}"

    return check

