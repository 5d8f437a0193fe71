"""Sync tests: a sandbox, a temporary warehouse and dlt directory, the sandbox's settings."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import httpx
import pytest
from crmsync.pipelines.sync import ProviderResult, sync_provider
from crmsync.sandbox.link import sandbox_environment
from crmsync.sandbox.server import SandboxServer
from crmsync.sandbox.world import World
from crmsync.sources import registry

from tests.conftest import PEOPLE, SEED

SyncOnce = Callable[..., ProviderResult]
TEMPLATE_WAREHOUSE = "warehouse.duckdb"


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



def fast(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sandbox has no rate limit unless a test sets one: no provider waits for its
    account's rate."""
    for provider in registry.names():
        monkeypatch.setenv(f"SOURCES__{provider.upper()}__REQUESTS_PER_SECOND", "1000")


def sync_others_once(folder: Path, providers: list[str]) -> Path:
    """`providers` synced into `folder` (TEMPLATE_WAREHOUSE and the dlt state in `pipelines`)
    once for a whole test file, from a sandbox identical to each test's: same seed and size,
    and the sandbox's worlds are deterministic. For the providers that look up the people
    the others loaded."""
    with SandboxServer(World(seed=SEED, contacts=PEOPLE)) as server, \
            pytest.MonkeyPatch.context() as monkeypatch:
        for key, value in sandbox_environment(server.url).items():
            monkeypatch.setenv(key, value)
        fast(monkeypatch)
        monkeypatch.setenv("CRMSYNC_PIPELINES_DIR", str(folder / "pipelines"))
        for provider in providers:
            result = sync_provider(provider, folder / TEMPLATE_WAREHOUSE)
            assert result.status == "ok", f"{provider}: {result.error}"
    return folder


@dataclass
class Expected:
    """Which accounts of the truth a provider reached through lookups should hold."""

    reachable: dict[str, str]  # contact id -> how it is reached
    unreachable: dict[str, str]  # contact id -> why no client can reach it

    def say_unreachable(self, accounts: str, synced: list[str]) -> None:
        """Name the accounts no client can reach, with the reason, in a warning."""
        if self.unreachable:
            lines = "\n".join(f"  {cid}: {why}" for cid, why in sorted(self.unreachable.items()))
            warnings.warn(f"{len(self.unreachable)} {accounts} cannot be reached from {synced}:\n"
                          f"{lines}", stacklevel=2)
