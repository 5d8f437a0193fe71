"""One warehouse after a whole loop against a small sandbox (sync, transform, push, the run's
ops.sync_runs rows), built once for the session: the tests here only read it."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crmsync import report
from crmsync.cli import main
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


@pytest.fixture(scope="session")
def looped(tmp_path_factory: pytest.TempPathFactory) -> Path:
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
    return warehouse  # the sandbox stopped and the environment restored: the session goes on as before


@dataclass
class Ran:
    code: int
    stdout: str
    stderr: str


@pytest.fixture()
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Ran]:
    """`crmsync ARGS` in this process, as its entry point runs it (a subprocess pays seconds of
    imports per call), on an 80-column terminal: COLUMNS=80, as rich reads it when a console
    is made (typer's help makes its own; crmsync's report made its console at import)."""
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setattr(report.stdout, "width", 80)

    def run(*args: str) -> Ran:
        monkeypatch.setattr(sys, "argv", ["crmsync", *args])
        capsys.readouterr()
        try:
            main()
            code = 0
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else 1
        out, err = capsys.readouterr()
        return Ran(code, out, err)

    return run
