"""dlt's log lines reach the run logger while the run lasts, and only then."""

from __future__ import annotations

import logging

from crmsync.flows.dlt_logging import dlt_logs_to


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[tuple[int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((record.levelno, record.getMessage()))


def test_dlt_lines_are_forwarded_during_the_run() -> None:
    run_logger = logging.getLogger("test.run_logger")
    run_logger.propagate = False
    capture = Capture()
    run_logger.addHandler(capture)
    dlt_logger = logging.getLogger("dlt")
    with dlt_logs_to(run_logger):
        dlt_logger.warning("load package %s committed", "17")
    dlt_logger.warning("after the run")
    assert capture.lines == [(logging.WARNING, "dlt: load package 17 committed")]
