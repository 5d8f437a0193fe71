"""Flow tests: one Prefect test harness for the whole session (it takes seconds to start),
with PREFECT_HOME in a temporary folder so no run touches the user's Prefect."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import json

import pytest

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crmsync.kernel.environment import temporary_environment
from crmsync.sandbox.link import sandbox_environment
from crmsync.sandbox.server import SandboxServer
from crmsync.sandbox.world import World
from tests.conftest import PEOPLE, SEED
from tests.hostile import serving_app


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    home = tmp_path_factory.mktemp("prefect_home")
    with temporary_environment({"PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}):
        from prefect.settings import PREFECT_HOME, temporary_settings
        from prefect.testing.utilities import prefect_test_harness

        with temporary_settings({PREFECT_HOME: str(home)}), prefect_test_harness(server_startup_timeout=60):
            yield


@pytest.fixture(scope="module")
def flow_sandbox() -> Iterator[SandboxServer]:
    """One sandbox per module: the flow tests run the whole loop against it."""
    with SandboxServer(World(seed=SEED, contacts=PEOPLE)) as server:
        yield server


@pytest.fixture()
def flow_env(flow_sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
             prefect_harness: None) -> Path:
    """A fresh warehouse pointed at the module's sandbox; retries without waiting."""
    for key, value in sandbox_environment(flow_sandbox.url).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("CRMSYNC_PIPELINES_DIR", str(tmp_path / "pipelines"))
    monkeypatch.setenv("FLOW__RETRY_DELAY_SECONDS", "0")
    return tmp_path / "warehouse.duckdb"


@pytest.fixture()
def receiver() -> Iterator[tuple[str, list[dict]]]:
    """A webhook receiver on a free port: (its Apprise json:// URL, the bodies posted to it)."""
    received: list[dict] = []

    async def hook(request: Request) -> Response:
        received.append(json.loads(await request.body()))
        return Response("ok")

    with serving_app(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as url:
        yield url.replace("http://", "json://") + "/hook", received
