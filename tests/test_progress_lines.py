"""The progress lines `crmsync run` and `crmsync push` print on stderr: throttled, a
target's last line always, and a word when a task runs long without a line."""

from __future__ import annotations

import time

import pytest

from crmsync.report import ProgressLines


def test_lines_are_throttled_and_a_targets_last_is_always_said(capsys: pytest.CaptureFixture[str]) -> None:
    progress = ProgressLines(every=60)
    for done in range(0, 1001, 10):
        progress.members("vip → chatman", done, 1000)
        progress.rows("chatman", "contacts", done)
    assert capsys.readouterr().err.splitlines() == ["  vip → chatman: 0 of 1,000 members",
                                                    "  chatman.contacts: 0 rows read",
                                                    "  vip → chatman: 1,000 of 1,000 members"]


def test_a_long_silent_task_is_named_until_it_ends(capsys: pytest.CaptureFixture[str]) -> None:
    with ProgressLines(quiet=0.5) as progress:
        progress.begin("sync-chatman")
        time.sleep(1.8)
        progress.end("sync-chatman", "ok")
        time.sleep(1.5)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "sync-chatman: started" and lines[-1] == "sync-chatman: ok", lines
    assert lines[1].startswith("  still running: sync-chatman (") and lines[1].endswith("s)"), lines
    assert 2 <= len(lines) - 2 <= 4  # one word per `quiet` of silence (~3 in 1.8 s), not one per check
