"""One warehouse after a whole loop against a small sandbox (sync, transform, push, the run's
ops.sync_runs rows), shared by the module's tests: they only read it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crmsync.flows.ops import write_sync_run
from crmsync.flows.summary import RunSummary
from crmsync.kernel.environment import temporary_environment
from crmsync.pipelines.push import push
from crmsync.pipelines.sync import sync
from crmsync.sandbox.link import sandbox_environment
from crmsync.sandbox.server import SandboxServer
from crmsync.sandbox.world import World
from crmsync.transforms.runner import DEFAULT_ROOT, run_transforms

PEOPLE = 40


@pytest.fixture(scope="module")
def looped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The warehouse of one sandbox run, read-only for the tests."""
    folder = tmp_path_factory.mktemp("looped")
    warehouse = folder / "warehouse.duckdb"
    with SandboxServer(World(seed=7, contacts=PEOPLE)) as server, \
            temporary_environment({**sandbox_environment(server.url), "CRMSYNC_PIPELINES_DIR": str(folder / "p")}):
        started = datetime.now(UTC)
        results = sync(None, warehouse)
        assert all(r.status == "ok" for r in results.values()), {p: r.error for p, r in results.items()}
        assert run_transforms(warehouse, DEFAULT_ROOT).status == "ok"
        assert push(warehouse).status == "ok"
        write_sync_run(warehouse, RunSummary("run-1", "crmsync-run", started, datetime.now(UTC), providers=results))
        yield warehouse
