"""A command run on its own tells its progress on stderr as `run` does (nothing with --json):
it begins, it is named while it has nothing to count, it ends."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

from tests.reading.conftest import Ran


def test_transform_says_it_started_and_ended_on_stderr(looped: Path, tmp_path: Path,
                                                       cli: Callable[..., Ran]) -> None:
    warehouse = Path(shutil.copy(looped, tmp_path / "w.duckdb"))
    done = cli("transform", "--warehouse", str(warehouse))
    assert done.code == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines[0] == "transform: started" and re.fullmatch(r"transform: done in \d+s", lines[-1]), lines
    assert "transform:" not in done.stdout
