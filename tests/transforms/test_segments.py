"""Segments: headers, members, history across runs (enter, leave, come back), bad segment files,
and `segments list` / `segments show`."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from crmsync.kernel.errors import UserError
from crmsync.kernel.push import PushTarget
from crmsync.transforms.runner import run_transforms
from crmsync.transforms.segments import (
    load_segment,
    push_kinds,
    segment_members,
    segment_overview,
)

from tests.transforms.model_tree import load_raw, query, write_tree

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
PEOPLE = {"p1": ("Ada Obi", "+2348031234567", "ada@x.io"), "p2": ("Bo Kim", None, "bo@x.io"),
          "p3": ("Cy Wu", "+254712345678", None), "p4": (None, None, "dee@x.io")}
HIGH_PUSH = {"chatman": 'segment "High value"', "dmchamp": "list list_high_value",
             "whautomate": 'tag "high-value"', "waabot": 'group "High value"', "chatrace": 'tag "high_value"'}
TREE = {
    "staging/s/people.sql": "-- materialized: table\nSELECT * FROM raw_s.people\n",
    "marts/people.sql": """
        -- materialized: table
        SELECT id AS person_id, name, phone, email, score FROM staging.s_people
        """,
    "marts/people.toml": '[tests]\nunique = ["person_id"]\n',
    "segments/high.sql": "-- description: Score of 10 or more\n"
                         + "".join(f"-- push: {p} {t}\n" for p, t in HIGH_PUSH.items())
                         + "SELECT person_id, score FROM crm.people WHERE score >= 10;\n",
    "segments/reachable.sql": """
        -- description: People with a phone
        -- push: waabot group "Reachable"
        SELECT person_id FROM crm.people WHERE phone IS NOT NULL
        UNION ALL SELECT person_id FROM crm.people WHERE phone IS NOT NULL  -- duplicates collapse
        """,
}


def members_of(scores: dict[str, int]) -> dict[str, set[str]]:
    """Who each segment of TREE should hold for these scores."""
    return {"high": {p for p, s in scores.items() if s >= 10},
            "reachable": {p for p in scores if PEOPLE[p][1] is not None}}


def load_people(warehouse: Path, scores: dict[str, int]) -> None:
    load_raw(warehouse, "raw_s.people", "id VARCHAR, name VARCHAR, phone VARCHAR, email VARCHAR, score INTEGER",
             [(p, *PEOPLE[p], score) for p, score in scores.items()])


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "transforms", TREE)


@pytest.fixture()
def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


def expected_history(runs: list[tuple[datetime, dict[str, set[str]]]]) -> list[tuple]:
    """segment_history as the runs should leave it: a row per stay, closed when the person left."""
    rows: list[list] = []
    for at, members in runs:
        open_rows = {(r[0], r[1]): r for r in rows if r[3] is None}
        for (segment, person), row in open_rows.items():
            if person not in members.get(segment, set()):
                row[3] = at
        for segment, people in members.items():
            rows.extend([segment, p, at, None] for p in people if (segment, p) not in open_rows)
    return sorted(tuple(r) for r in rows)


def history(warehouse: Path) -> list[tuple]:
    return sorted(query(warehouse, "SELECT segment, person_id, entered_at, left_at FROM crm.segment_history"))


def test_a_header_gives_description_and_push_targets_per_provider(root: Path) -> None:
    segment = load_segment(root / "segments" / "high.sql")

    assert segment.name == "high" and segment.description == "Score of 10 or more"
    assert {p: str(t) for p, t in segment.push.items()} == {p: f"{p} {t}" for p, t in HIGH_PUSH.items()}
    assert segment.push["dmchamp"] == PushTarget("dmchamp", push_kinds()["dmchamp"], "list_high_value")
    assert segment.push["chatman"].name == "High value"


def test_history_over_three_runs_enter_leave_and_come_back(root: Path, warehouse: Path) -> None:
    scores = [{"p1": 20, "p2": 15, "p3": 1, "p4": 0},
              {"p1": 1, "p2": 15, "p3": 30, "p4": 0},  # p1 leaves high, p3 enters
              {"p1": 20, "p2": 15, "p3": 30}]  # p1 comes back, p4 is gone from everything
    runs = []
    for n, run_scores in enumerate(scores):
        at = T0 + timedelta(days=n)
        members = members_of(run_scores)
        previous = runs[-1][1] if runs else {}
        load_people(warehouse, run_scores)

        result = run_transforms(warehouse, root, now=at)

        assert result.status == "ok", result.error
        runs.append((at, members))
        assert history(warehouse) == expected_history(runs)
        assert sorted(query(warehouse, "SELECT segment, person_id FROM crm.segment_members")) == sorted(
            (s, p) for s, people in members.items() for p in people)
        for name, people in members.items():
            before = previous.get(name, set())
            assert (result.segments[name].size, result.segments[name].entered, result.segments[name].left) == (
                len(people), len(people - before), len(before - people))
    assert [r for r in history(warehouse) if r[:2] == ("high", "p1")] == [
        ("high", "p1", T0, T0 + timedelta(days=1)), ("high", "p1", T0 + timedelta(days=2), None)]


def test_segments_list_and_show_report_the_latest_run(root: Path, warehouse: Path) -> None:
    first, second = {"p1": 20, "p2": 15, "p3": 1, "p4": 0}, {"p1": 1, "p2": 15, "p3": 30, "p4": 12}
    for n, scores in enumerate((first, second)):
        load_people(warehouse, scores)
        assert run_transforms(warehouse, root, now=T0 + timedelta(days=n)).status == "ok"

    overview = {s.segment.name: s for s in segment_overview(warehouse, root)}

    before, after = members_of(first), members_of(second)
    for name in after:
        assert (overview[name].size, overview[name].entered, overview[name].left) == (
            len(after[name]), len(after[name] - before[name]), len(before[name] - after[name]))
        assert overview[name].last_run == T0 + timedelta(days=1)
    columns, rows, total = segment_members(warehouse, root, "high", limit=2)
    assert total == len(after["high"])
    assert columns == ["person_id", "name", "phone", "email"]
    assert rows == [(p, *PEOPLE[p]) for p in sorted(after["high"])[:2]]
    with pytest.raises(UserError, match="unknown segment 'nope'"):
        segment_members(warehouse, root, "nope", limit=2)


def test_a_deleted_segment_file_closes_its_members(root: Path, warehouse: Path) -> None:
    load_people(warehouse, {"p1": 20, "p2": 1})
    assert run_transforms(warehouse, root, now=T0).status == "ok"
    (root / "segments" / "high.sql").unlink()

    result = run_transforms(warehouse, root, now=T0 + timedelta(days=1))

    assert set(result.segments) == {"reachable"}
    assert query(warehouse, "SELECT person_id, left_at FROM crm.segment_history WHERE segment = 'high'") == [
        ("p1", T0 + timedelta(days=1))]


def test_a_failing_test_or_select_leaves_segments_as_they_were(root: Path, warehouse: Path) -> None:
    load_people(warehouse, {"p1": 20, "p2": 1})
    assert run_transforms(warehouse, root, now=T0).status == "ok"
    kept = history(warehouse), query(warehouse, "SELECT * FROM crm.segment_runs ORDER BY ALL")
    load_people(warehouse, {"p1": 1, "p2": 20})

    selected = run_transforms(warehouse, root, select=["people"], now=T0 + timedelta(days=1))
    assert selected.status == "ok" and selected.segments == {}
    load_raw(warehouse, "raw_s.people", "id VARCHAR, name VARCHAR, phone VARCHAR, email VARCHAR, score INTEGER",
             [("p1", None, None, None, 20), ("p1", None, None, None, 20)])  # person_id no longer unique
    failed = run_transforms(warehouse, root, now=T0 + timedelta(days=2))
    assert failed.status == "failed" and failed.segments == {}

    assert (history(warehouse), query(warehouse, "SELECT * FROM crm.segment_runs ORDER BY ALL")) == kept


@pytest.mark.parametrize("sql, message", [
    ("SELECT name FROM crm.people\n", r"bad\.sql: returns no person_id column \(it returns name\)"),
    ("SELECT person_id FROM crm.people WHERE (\n", r"bad\.sql: SQL does not parse"),
    ('-- push: chatman tag "x"\nSELECT person_id FROM crm.people\n', r"bad\.sql: bad push line"),
    ("-- push: dmchamp list \"quoted\"\nSELECT person_id FROM crm.people\n", r"bad\.sql: bad push line"),
])
def test_a_bad_segment_file_is_one_line_naming_it_and_changes_nothing(
        root: Path, warehouse: Path, sql: str, message: str) -> None:
    load_people(warehouse, {"p1": 20})
    assert run_transforms(warehouse, root, now=T0).status == "ok"
    write_tree(root, {"segments/bad.sql": sql})
    load_people(warehouse, {"p1": 20, "p2": 20})

    with pytest.raises(UserError, match=message) as raised:
        run_transforms(warehouse, root, now=T0 + timedelta(days=1))

    assert len(str(raised.value).splitlines()) == 1
    assert query(warehouse, "SELECT person_id FROM crm.people") == [("p1",)]  # rolled back


def test_a_segment_that_fails_in_duckdb_fails_the_run_naming_the_file(root: Path, warehouse: Path) -> None:
    load_people(warehouse, {"p1": 20})
    write_tree(root, {"segments/broken.sql": "SELECT person_id FROM crm.no_such_table\n"})

    result = run_transforms(warehouse, root, now=T0)

    assert result.status == "failed" and "broken.sql" in result.error and "no_such_table" in result.error


def test_segments_commands_exit_2_with_one_line_for_a_bad_file(root: Path, warehouse: Path) -> None:
    load_people(warehouse, {"p1": 20})
    write_tree(root, {"segments/bad.sql": "SELECT name FROM crm.people\n"})
    common = ["--warehouse", str(warehouse), "--transforms", str(root)]

    bad = subprocess.run([sys.executable, "-m", "crmsync", "transform", *common], capture_output=True, text=True,
                         env=dict(os.environ), timeout=120)

    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [bad.stderr.strip()] and "bad.sql" in bad.stderr
    (root / "segments" / "bad.sql").unlink()
    ok = subprocess.run([sys.executable, "-m", "crmsync", "transform", *common], capture_output=True, text=True,
                        env=dict(os.environ), timeout=120)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    shown = subprocess.run([sys.executable, "-m", "crmsync", "segments", "show", "high", *common],
                           capture_output=True, text=True, env=dict(os.environ), timeout=120)
    assert shown.returncode == 0 and PEOPLE["p1"][0] in shown.stdout
