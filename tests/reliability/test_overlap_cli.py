"""Two `crmsync run` at once on one warehouse: one runs, the other exits at once, saying in
one line which run holds the warehouse, without a traceback."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from crmsync.kernel.overlap import lock_path, read_owner
from crmsync.sandbox.server import SandboxServer
from tests.flows.conftest import prefect_harness  # noqa: F401  (the Prefect API `crmsync run` reports to)
from tests.reliability.conftest import assert_pushed_once, cli_environment, crmsync, finished, rows


@pytest.mark.slow  # two interpreters with Prefect, one whole run
def test_a_second_run_on_the_same_warehouse_says_why_it_did_not_run(
        prefect_harness: None, sandbox: SandboxServer, warehouse: Path, tmp_path: Path) -> None:  # noqa: F811
    from prefect.settings import PREFECT_API_URL

    env = {**cli_environment(sandbox.url, tmp_path), "PREFECT_API_URL": str(PREFECT_API_URL.value())}
    args = ["run", "--sandbox", sandbox.url, "--warehouse", str(warehouse)]
    first = crmsync(args, env)
    deadline = time.monotonic() + 120
    while read_owner(lock_path(warehouse)) is None and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    owner = read_owner(lock_path(warehouse))
    assert owner is not None and owner.pid == first.pid, "the first run never took the warehouse"
    second = crmsync(args, env)
    out, err = second.communicate(timeout=180)
    assert first.poll() is None, "the first run ended before the second was refused"
    # A run that finds another at work is skipped, not failed (a schedule overlapping itself
    # is no error): exit 0 and one line naming the warehouse and the run that holds it.
    assert second.returncode == 0 and "Traceback" not in out + err, err[-3000:]
    said = [line for line in out.splitlines() if line.startswith("skipped:")]
    assert said == [f"skipped: {warehouse} is in use: run 'crmsync-sync' (pid {first.pid}) "
                    f"has held it since {owner.started_at}"], out
    assert "provider" not in out, "a skipped run printed a sync table of nothing"
    finished(first)
    assert rows(warehouse, "SELECT status FROM ops.sync_runs WHERE kind = 'run'") == [("ok",)]
    assert_pushed_once(sandbox, warehouse)
