"""What crmsync prints fits an 80-column terminal (COLUMNS=80) whole: no line wider, nothing cut short with
"…", a table row on one line where it can be; and `crmsync --version`."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from tests.reading.conftest import Ran


@pytest.mark.parametrize("command, whole", [
    (["status"], ["chatrace.pipeline_custom_fields", "whautomate.contact_tags"]),
    (["segments", "list"], ["high_value_customers", "stalled_opportunities"]),
    (["push", "--help"], ["--allow-mass-removal", "--full-resync", "--dry-run"]),
])
def test_the_output_fits_80_columns_whole(looped: Path, command: list[str], whole: list[str],
                                          cli: Callable[..., Ran]) -> None:
    done = cli(*command, *([] if "--help" in command else ["--warehouse", str(looped)]))
    assert done.code == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) > 5 and max(map(len, lines)) <= 80, done.stdout
    assert "…" not in done.stdout, done.stdout
    for word in whole:
        assert any(word in line for line in lines), f"{word} is not whole on a line:\n{done.stdout}"


def every_command() -> list[list[str]]:
    """Every command and sub-command of the CLI, as its words."""
    from typer.main import get_command

    from crmsync.cli import app

    def walk(command, words: list[str]) -> list[list[str]]:
        below = getattr(command, "commands", {})
        return [words] + [w for name, sub in sorted(below.items()) for w in walk(sub, [*words, name])]

    return walk(get_command(app), [])


@pytest.mark.parametrize("command", every_command(), ids=lambda words: " ".join(words) or "crmsync")
def test_every_help_fits_80_columns_and_cuts_nothing(command: list[str], cli: Callable[..., Ran]) -> None:
    done = cli(*command, "--help")
    assert done.code == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines and max(map(len, lines)) <= 80, done.stdout
    assert "…" not in done.stdout, done.stdout


def test_a_segments_members_and_a_person_fit_80_columns_with_whole_phones_and_emails(
        looped: Path, cli: Callable[..., Ran]) -> None:
    with duckdb.connect(str(looped), read_only=True) as con:
        person_id, phone, email = con.execute(
            "SELECT person_id, phone_e164, email FROM crm.segment_members JOIN crm.people USING (person_id) "
            "WHERE segment = 'multi_provider' AND email IS NOT NULL ORDER BY person_id LIMIT 1").fetchone()
    for command in (["segments", "show", "multi_provider"], ["person", person_id]):
        done = cli(*command, "--warehouse", str(looped))
        assert done.code == 0, done.stderr
        assert max(map(len, done.stdout.splitlines())) <= 80 and "…" not in done.stdout, done.stdout
        assert phone in done.stdout and person_id in done.stdout
    assert email in cli("segments", "show", "multi_provider", "--warehouse", str(looped)).stdout


def test_status_gives_each_provider_table_one_line(looped: Path, cli: Callable[..., Ran]) -> None:
    lines = cli("status", "--warehouse", str(looped)).stdout.splitlines()
    rows = [line for line in lines if line.startswith("│ chatman.")]
    assert len(rows) >= 5 and all(" ok +" in row for row in rows), "\n".join(lines)
    assert not [line for line in lines if line.startswith("│  ")]  # no row continued on a second line


def test_version() -> None:  # in its own process: the installed entry point, its metadata
    done = subprocess.run([sys.executable, "-m", "crmsync", "--version"], capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout) == (0, f"crmsync {importlib.metadata.version('crmsync')}\n")


def test_a_dry_run_push_is_a_line_per_segment_and_provider_within_80_columns(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The issue measured 173 lines for a sandbox's dry run (4 segments × 5 providers, each
    target new, with a sample of 5 people): now a table row per target and a line of who."""
    from io import StringIO

    from rich.console import Console

    from crmsync import report
    from crmsync.pipelines.push import PushResult, TargetResult
    from crmsync.sources import registry

    people = [{"name": f"{first} {last}", "phone_e164": "+2348012345678", "person_id": f"p{n}"}
              for n, (first, last) in enumerate([("Wanjiru", "Balogun-Okonkwo"), ("Tunde", "Nwosu"),
                                                 ("Mary", "Miller"), ("Sarah", "Patel"), ("Emeka", "Smith")])]
    segments = ["high_value_customers", "inactive_opted_in", "multi_provider", "stalled_opportunities"]
    result = PushResult(None, dry_run=True, segments={segment: {provider: TargetResult(
        f'{provider} segment "{segment.replace("_", " ").title()}"', added=1234, created=True,
        sample={"add": people, "remove": people[:2]}) for provider in registry.names()} for segment in segments})
    shown = StringIO()
    monkeypatch.setattr(report, "stdout", Console(file=shown, width=80))
    report.push_summary(result, Path("/a/rather/long/path/to/the/warehouse.duckdb"))
    lines = shown.getvalue().splitlines()
    table = 4 + len(segments) * 5 + len(segments)  # title, head, a row per target, rules and foot
    assert len(lines) <= table + 1 + 2 * len(segments) + 1, shown.getvalue()  # "new: ...", who, verdict
    assert max(map(len, lines)) <= 80 and "…" not in shown.getvalue(), shown.getvalue()
    for segment in segments:
        assert any(line.startswith(f"{segment} + Wanjiru Balogun-Okonkwo, Tunde Nwosu") for line in lines)
    for provider in registry.names():
        assert sum(f" {provider} new " in line for line in lines) == len(segments), shown.getvalue()
