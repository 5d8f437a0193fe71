"""dlt's log lines through Prefect's run logger, so they show in the run's logs in the UI."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

DLT_LOGGERS = ("dlt",)


class ForwardToRunLogger(logging.Handler):
    """Re-emits each record on the flow run's logger (which ships it to the Prefect API).
    The run logger is captured in the flow's thread: task threads have no run context of
    their own when dlt logs from its worker threads."""

    def __init__(self, run_logger: logging.LoggerAdapter | logging.Logger) -> None:
        super().__init__()
        self.run_logger = run_logger

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.run_logger.log(record.levelno, "%s: %s", record.name, record.getMessage())
        except Exception:  # noqa: BLE001 - a log line must never fail a sync
            self.handleError(record)


@contextmanager
def dlt_logs_to(run_logger: logging.LoggerAdapter | logging.Logger) -> Iterator[ForwardToRunLogger]:
    handler = ForwardToRunLogger(run_logger)
    loggers = [logging.getLogger(name) for name in DLT_LOGGERS]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
