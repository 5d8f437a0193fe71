"""serve's console: a run that Prefect spawns while `quiet_served_runs` holds shows crmsync's
own lines and warnings, not Prefect's routine INFO lines."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

# A served run as Prefect starts it: a new Python process that imports Prefect (which sets up
# its logging from the environment it inherited), then runs a flow with a task.
RUN = textwrap.dedent("""
    from prefect import flow, get_run_logger, task

    @task(name="step")
    def step() -> int:
        return 1

    @flow(name="tiny")
    def tiny() -> None:
        step()
        get_run_logger().info("ok: 3 rows loaded")
        get_run_logger().warning("skipped: in use")

    tiny()
""")


# serve: the quieting applied, then a run spawned (serve's own logging is set up the same way).
SERVE = f"""
import subprocess, sys
from crmsync.flows.console import quiet_served_runs

with quiet_served_runs():
    sys.exit(subprocess.run([sys.executable, "-c", {RUN!r}]).returncode)
"""


@pytest.mark.slow  # two Python processes importing Prefect: ~6 s
def test_a_served_run_logs_crmsync_lines_and_warnings_without_prefects_routine_lines(prefect_harness: None) -> None:
    from prefect.settings import PREFECT_API_URL

    env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_LOGGING_")}
    run = subprocess.run([sys.executable, "-c", SERVE], capture_output=True, text=True, timeout=120,
                         env={**env, "PREFECT_API_URL": str(PREFECT_API_URL.value())})
    assert run.returncode == 0, run.stderr
    # Prefect's "Beginning flow run", "View at", "Finished in state Completed()" are gone.
    assert [line.split(" - ", 1)[-1] for line in run.stderr.splitlines()] == ["ok: 3 rows loaded",
                                                                             "skipped: in use"], run.stderr
