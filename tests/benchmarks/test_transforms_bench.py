"""Item 4 of the benchmark on a tiny size: the figures are computed, the synthesised warehouse
holds exactly the contacts and events asked, the model's data tests pass on it, and its people
are the template's people scaled up (copies stay distinct, cross-provider people stay joined).
Not a timing test: only that the benchmark runs and measures what it says."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from crmsync.benchmarks.transforms import (
    CONTACT_TABLES,
    EVENT_TABLES,
    RUNNER,
    SCALED,
    TEMPLATE,
    measure_transforms,
    template_people,
)
from crmsync.transforms.runner import run_transforms

CONTACTS, EVENTS = 2_000, 20_000


def rows(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def total(warehouse: Path, tables: tuple[str, ...]) -> int:
    return sum(rows(warehouse, f"SELECT count(*) FROM {t}")[0][0] for t in tables)


@pytest.mark.slow  # the template is a real sync of every provider: ~20 s of dlt
def test_measure_transforms_on_a_tiny_warehouse(tmp_path: Path) -> None:
    figures = {f.name: f for f in measure_transforms(CONTACTS, EVENTS, tmp_path)}

    seconds, direct = figures["transforms.seconds"].value, figures["transforms.direct_seconds"].value
    assert seconds > 0 and direct > 0 and figures["transforms.rerun_seconds"].value > 0
    overhead = figures["transforms.runner_overhead"]
    assert overhead.value == pytest.approx(seconds / direct - 1, abs=0.01)
    assert overhead.met == (overhead.value <= 0.10) and overhead.target == "<= 0.1"
    assert figures["transforms.peak_rss_mb"].value > 0

    scaled, built = tmp_path / SCALED, tmp_path / RUNNER
    assert total(scaled, CONTACT_TABLES) == CONTACTS
    assert total(scaled, EVENT_TABLES) == EVENTS
    # Every contact reaches the model, every event finds its contact's person.
    assert rows(built, "SELECT count(*) FROM crm.contacts") == [(CONTACTS,)]
    assert rows(built, "SELECT count(*), count(person_id) FROM crm.events")[0][1] == \
        rows(built, "SELECT count(*) FROM crm.events")[0][0]

    # The template's people, scaled: each copy is new people (else they would all merge into
    # the template's) and a person in several providers stays one person in each copy.
    template = tmp_path / "template_built.duckdb"
    shutil.copyfile(tmp_path / TEMPLATE.format(people=template_people(CONTACTS)), template)
    assert run_transforms(template).status == "ok"
    template_contacts = total(template, CONTACT_TABLES)
    expected_people = rows(template, "SELECT count(*) FROM crm.people")[0][0] * CONTACTS / template_contacts
    assert rows(built, "SELECT count(*) FROM crm.people")[0][0] == pytest.approx(expected_people, rel=0.1)
    multi = "SELECT avg(CAST(len(providers) >= 2 AS DOUBLE)) FROM crm.people"
    assert rows(built, multi)[0][0] == pytest.approx(rows(template, multi)[0][0], abs=0.05)
