"""`crmsync bench` at a tiny size: every figure is there, numeric, and computed from what the
sandbox answered (not a timed test: the values are not judged, only their making)."""

from __future__ import annotations

import json
import math

import pytest
from typer.testing import CliRunner

from crmsync.benchmarks.run import PER_PERSON, run_bench
from crmsync.cli import app
from crmsync.kernel.errors import UserError
from crmsync.sources.whautomate import settings as whautomate_settings

TINY = 200
WHAUTOMATE_CONCURRENCY = next(s.default for s in whautomate_settings.SETTINGS if s.key == "concurrency")
WHAUTOMATE_LISTINGS = 4  # contacts, clients, contact tags, segments


def by_name(document: dict) -> dict[str, dict]:
    return {figure["name"]: figure for figure in document["figures"]}


def assert_well_formed(figures: dict[str, dict]) -> None:
    for name, figure in figures.items():
        assert isinstance(figure["value"], int | float) and math.isfinite(figure["value"]), name
        assert figure["unit"], name
        if figure["target"] is None:
            assert figure["met"] is None, name
        else:  # met is what the value says about the target, not a constant
            operator, limit = figure["target"].split()
            expected = figure["value"] <= float(limit) if operator == "<=" else figure["value"] >= float(limit)
            assert figure["met"] is expected, name


@pytest.mark.slow  # a whole bench run; `crmsync bench` is the measure
def test_sync_and_push_figures_are_measured() -> None:
    document = run_bench(TINY, ("sync", "push"), bound_min_s=1.0)
    figures = by_name(document)
    assert_well_formed(figures)
    assert document["contacts"] == TINY and document["machine"]["cores"] >= 1
    for provider in ("chatman", "whautomate"):
        crmsync, floor = (figures[f"sync.{provider}.{who}_requests"]["value"] for who in ("crmsync", "floor"))
        # Both counts come from the sandbox's stats; the floor reads the pages crmsync read.
        assert crmsync > 0 and floor > 0
        assert "same routes" in figures[f"sync.{provider}.floor_requests"]["note"]
        if provider == "chatman":  # cursor pages: nothing to fetch ahead
            assert floor == crmsync
        else:  # numbered pages in batches: at most one batch of empty pages past each listing's end
            assert 0 <= crmsync - floor <= WHAUTOMATE_CONCURRENCY * WHAUTOMATE_LISTINGS
        ratio = figures[f"sync.{provider}.floor_ratio"]["value"]
        seconds = figures[f"sync.{provider}.crmsync_seconds"]["value"] / figures[f"sync.{provider}.floor_seconds"]["value"]
        assert ratio == pytest.approx(seconds, rel=0.01)
        whole = figures[f"sync.{provider}.client_cpu_ratio"]["value"]
        # dlt's steps are parts of the process's CPU, each measured while it ran.
        extract, destination = (figures[f"sync.{provider}.{part}_cpu_ratio"]["value"] for part in ("extract", "destination"))
        assert extract > 0 and destination > 0 and extract + destination <= whole
    assert figures["push.changes"]["value"] > 0  # the benchmark segment's members were added
    assert figures["push.rerun_write_calls"]["unit"] == "calls"
    assert "from /_sandbox/stats" in figures["push.rerun_write_calls"]["note"]


def test_an_unknown_item_is_refused_before_anything_runs() -> None:
    result = CliRunner().invoke(app, ["bench", "--only", "sync", "--skip", "nothing"])
    assert isinstance(result.exception, UserError)  # main() prints it as one line, exit 2
    assert "nothing" in str(result.exception) and "sync" in str(result.exception)


@pytest.mark.slow
def test_per_person_providers_are_measured_at_the_smaller_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("crmsync.benchmarks.run.PER_PERSON_MAX", TINY // 2)
    figures = by_name(run_bench(TINY, ("incremental",)))
    assert_well_formed(figures)
    for provider in ("chatman", "waabot", "whautomate", "chatrace", "dmchamp"):
        size = TINY // 2 if provider in PER_PERSON else TINY
        assert figures[f"incremental.{provider}.rerun_ratio"]["note"].endswith(f"at {size:,} contacts"), provider
        for figure in ("fit", "requests_vs_floor", "staleness_hours", "naive.staleness_hours"):
            assert f"schedule.{provider}.{figure}" in figures, (provider, figure)
    # The rerun's floor asks for what crmsync's rerun asked for, no less.
    assert "same routes" in figures["incremental.chatman.floor_ratio"]["note"]
    # DM Champ reran within its budget: its naive plan would have taken longer.
    assert "budgeted" in figures["schedule.dmchamp.staleness_hours"]["note"]
    assert figures["schedule.dmchamp.requests_vs_floor"]["value"] < 1  # the budget deferred some
    assert figures["schedule.dmchamp.naive.staleness_hours"]["note"].endswith("more than the budget)")


@pytest.mark.slow
def test_every_item_through_the_command_line() -> None:
    result = CliRunner().invoke(app, ["bench", "--contacts", str(TINY), "--json", "--skip", "transforms"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    figures = by_name(document)
    assert_well_formed(figures)
    for prefix in ("sync.chatman.", "sync.whautomate.", "sync.chatman.declarative_", "sync.whautomate.declarative_",
                   "sync.chatman.rate_limited.", "memory.chatman.", "memory.waabot.", "push.",
                   "incremental.chatman.", "incremental.dmchamp.", "incremental.whautomate.",
                   "incremental.waabot.", "incremental.chatrace."):
        assert any(name.startswith(prefix) for name in figures), prefix
    assert figures["sync.chatman.rate_limited.rows_missing"]["value"] == 0  # every row arrived despite 429s
    assert figures["memory.chatman.peak_rss"]["value"] > 0
