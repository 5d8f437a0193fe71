"""A command run on its own tells its progress on stderr as `run` does (nothing with --json):
named while it runs long with nothing to count, then said done; over quickly, nothing."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from crmsync import report
from tests.reading.conftest import Ran


def test_a_transform_longer_than_the_quiet_time_is_named_while_it_runs_then_said_done(
        looped: Path, tmp_path: Path, cli: Callable[..., Ran], monkeypatch: pytest.MonkeyPatch) -> None:
    warehouse = Path(shutil.copy(looped, tmp_path / "w.duckdb"))
    monkeypatch.setattr(report, "COMMAND_QUIET_SECONDS", 0.2)  # the transform of 40 people: ~2 s
    done = cli("transform", "--warehouse", str(warehouse))
    assert done.code == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines and all(line.startswith("  still running: transform (") for line in lines[:-1]), lines
    assert re.fullmatch(r"transform: done in \d+s", lines[-1]), lines
    assert "transform:" not in done.stdout
