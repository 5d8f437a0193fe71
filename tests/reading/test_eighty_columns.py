"""What crmsync prints fits an 80-column terminal whole: no line wider, nothing cut short with
"…", a table row on one line where it can be; and `crmsync --version`."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import pytest


def crmsync(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crmsync", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "80"})


@pytest.mark.parametrize("command, whole", [
    (["status"], ["chatrace.pipeline_custom_fields", "whautomate.contact_tags"]),
    (["segments", "list"], ["high_value_customers", "stalled_opportunities"]),
    (["push", "--help"], ["--allow-mass-removal", "--full-resync", "--dry-run"]),
])
def test_the_output_fits_80_columns_whole(looped: Path, command: list[str], whole: list[str]) -> None:
    done = crmsync(*command, *([] if "--help" in command else ["--warehouse", str(looped)]))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) > 5 and max(map(len, lines)) <= 80, done.stdout
    assert "…" not in done.stdout, done.stdout
    for word in whole:
        assert any(word in line for line in lines), f"{word} is not whole on a line:\n{done.stdout}"


def test_status_gives_each_provider_table_one_line(looped: Path) -> None:
    lines = crmsync("status", "--warehouse", str(looped)).stdout.splitlines()
    rows = [line for line in lines if line.startswith("│ chatman.")]
    assert len(rows) >= 5 and all(" ok +" in row for row in rows), "\n".join(lines)
    assert not [line for line in lines if line.startswith("│  ")]  # no row continued on a second line


def test_version() -> None:
    done = crmsync("--version")
    assert (done.returncode, done.stdout) == (0, f"crmsync {importlib.metadata.version('crmsync')}\n")
