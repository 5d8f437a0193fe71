"""Prefect flows: scheduled sync → transform → push (issue #6).

job.py composes; the logic lives in plain functions: steps.py (the tasks; the provider order
is the registry's), retry.py (which failures are transient), summary.py (one run's figures),
ops.py (ops.sync_runs), status.py (`crmsync status`), dlt_logging.py, settings.py (`[flow]`), serve.py
and prefect_server.py (`crmsync serve`), run.py (`crmsync run`). The lock beside the
warehouse is kernel/overlap.py, which the sync, transform and push commands take too.
DEPLOY.md: how to run them on a schedule, here or on a Prefect server with a work pool.
"""

import os

# The temporary Prefect server `crmsync run` starts sends usage telemetry; on a machine that
# cannot reach Prefect's host every run then logs an ERROR. Off unless the user set it.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
