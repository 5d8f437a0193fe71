"""What `crmsync serve` shows on its console: each run's verdict, alerts, warnings and
errors, without Prefect's routine lines ("Beginning flow run", "Downloading flow code",
one "Finished in state Completed()" per task).

serve's console is its log, and crmsync's own lines go through the same run logger and
console handler as Prefect's, so a level cannot tell them apart: a filter on the console
handler drops the INFO (and lower) records that Prefect's own code emitted. The served runs
are processes Prefect spawns, which set up their logging from PREFECT_LOGGING_SETTINGS_PATH:
the filter reaches them as Prefect's default logging configuration plus the filter, in a
file that lives as long as serve. The runs' logs still reach the Prefect API in full.
Left alone when the user set PREFECT_LOGGING_SETTINGS_PATH or
PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL (`crmsync run` quiets its console another way: its
report replaces the log, see flows/run.py).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import prefect

# Imported by each served run as Prefect sets up its logging: nothing heavier than Prefect here.
SETTINGS_PATH = "PREFECT_LOGGING_SETTINGS_PATH"
# What the user sets to see Prefect's own lines again (any level: INFO shows them all).
CONSOLE_LEVEL = "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"
PREFECT_CODE = str(Path(prefect.__file__).parent) + os.sep


class DropPrefectRoutine(logging.Filter):
    """Keeps warnings and errors, and every line not logged by Prefect's own code."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or not record.pathname.startswith(PREFECT_CODE)


def quiet_config() -> dict[str, Any]:
    """Prefect's default logging configuration, as this process's settings fill it in (the
    spawned runs inherit the same), with the filter on its console handler."""
    from prefect.logging.configuration import DEFAULT_LOGGING_SETTINGS_PATH, load_logging_config

    config = load_logging_config(DEFAULT_LOGGING_SETTINGS_PATH)
    config.setdefault("filters", {})["crmsync_quiet"] = {"()": f"{__name__}.{DropPrefectRoutine.__name__}"}
    config["handlers"]["console"].setdefault("filters", []).append("crmsync_quiet")
    return config


@contextmanager
def quiet_served_runs() -> Iterator[None]:
    """For the block: this process and the runs it spawns log to the console through the
    filter."""
    if os.environ.get(SETTINGS_PATH) or os.environ.get(CONSOLE_LEVEL):
        yield
        return
    from prefect.logging.configuration import setup_logging
    from prefect.settings import PREFECT_LOGGING_SETTINGS_PATH, temporary_settings

    with tempfile.TemporaryDirectory(prefix="crmsync-logging-") as folder:
        path = Path(folder) / "logging.yml"
        path.write_text(json.dumps(quiet_config(), indent=1))  # JSON is YAML, which Prefect reads
        os.environ[SETTINGS_PATH] = str(path)  # what the spawned runs inherit
        try:
            with temporary_settings({PREFECT_LOGGING_SETTINGS_PATH: path}):
                setup_logging(incremental=False)
                yield
        finally:
            del os.environ[SETTINGS_PATH]
