"""A lake's flows on a work pool of two process workers: each provider's deployment and the
transform-and-push deployment, run by `prefect worker start` processes, as flows/DEPLOY.md says."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from crmsync.flows.job import PROVIDER_FLOW, SYNC_FLOW, TRANSFORM_PUSH_FLOW
from crmsync.flows.serve import deploy_to_pool
from crmsync.kernel.lake import Lake
from crmsync.sandbox.server import SandboxServer

from tests.flows.conftest import prefect_harness  # noqa: F401  (fixture)
from tests.lake.conftest import lake_query
from tests.sources.conftest import truth

POOL = "crmsync-lake"
PROVIDERS = ("waabot", "whautomate")


def finished(client, ids: list) -> dict | None:  # noqa: ANN001 - Prefect's client
    states = {i: client.read_flow_run(i).state for i in ids}
    if all(s and s.is_final() for s in states.values()):
        return {i: s.type.value for i, s in states.items()}
    return None


def wait_finished(client, ids: list, seconds: float) -> dict | None:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while (states := finished(client, ids)) is None and time.monotonic() < deadline:
        time.sleep(2)
    return states


@pytest.mark.slow  # ~2-4 min: a Prefect server, two workers, three flow runs on a lake
def test_providers_and_transform_push_run_on_two_process_workers(
        prefect_harness: None, sandbox: SandboxServer, lake: Lake, tmp_path: Path) -> None:  # noqa: F811
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value()), "PREFECT_WORKER_QUERY_SECONDS": "2"}
    subprocess.run([sys.executable, "-m", "prefect", "work-pool", "create", POOL, "--type", "process"],
                   env=env, check=True, capture_output=True, timeout=120)
    deploy_to_pool(lake, POOL)
    workers = [subprocess.Popen([sys.executable, "-m", "prefect", "worker", "start", "--pool", POOL,
                                 "--name", f"worker-{n}"], env=env, cwd=tmp_path,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for n in (1, 2)]
    try:
        syncs = [run_deployment(f"{PROVIDER_FLOW}/{SYNC_FLOW}-{p}", timeout=0).id for p in PROVIDERS]
        with get_client(sync_client=True) as client:
            synced = wait_finished(client, syncs, seconds=600)
            built = run_deployment(f"{TRANSFORM_PUSH_FLOW}/{TRANSFORM_PUSH_FLOW}", parameters={"push": False},
                                   timeout=0).id
            transformed = wait_finished(client, [built], seconds=600)
            ran_on = {client.read_flow_run(i).work_pool_name for i in syncs}
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(timeout=60)

    assert synced and set(synced.values()) == {"COMPLETED"}, synced
    assert transformed and set(transformed.values()) == {"COMPLETED"}, transformed
    assert ran_on == {POOL}
    expected = truth(sandbox)["counts"]
    for provider in PROVIDERS:
        loaded = lake_query(lake, f"SELECT count(*) FROM raw_{provider}.contacts WHERE deleted_at IS NULL")
        assert loaded[0][0] == expected[provider]["contacts"], provider
    recorded = lake_query(lake, "SELECT DISTINCT flow, provider FROM ops.sync_runs WHERE kind = 'table'")
    assert set(recorded) >= {(PROVIDER_FLOW, p) for p in PROVIDERS}, recorded
    assert lake_query(lake, "SELECT count(*) FROM crm.people")[0][0] > 0
