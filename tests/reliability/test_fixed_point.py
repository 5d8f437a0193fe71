"""The loop is a fixed point: with no change at the providers, sync -> transform -> push ->
sync -> transform gives the same segment members as the first transform, and the push after
it makes no write call. Held over three rounds, with churn between them and the sandbox's
faults on throughout: crmsync's own writes (the Waabot records and DM Champ contacts its push
creates) never move a segment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from crmsync.sandbox.server import SandboxServer

from tests.push.test_push_sandbox import writes
from tests.reliability.conftest import (every_run_sandbox, no_faults, pushed, reset_stats, rows, set_faults, synced,
                                        transformed)
from tests.reliability.test_faults_loop import EVERY_FAULT, make_waabot_groups
from tests.sources.conftest import churn

PEOPLE = 240  # enough for every segment to have members in every provider
ROUNDS = 3


@pytest.fixture()
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxServer]:
    with every_run_sandbox(monkeypatch, seed=11, people=PEOPLE) as server:
        yield server


def members(warehouse: Path) -> set[tuple[str, str]]:
    return set(rows(warehouse, "SELECT segment, person_id FROM crm.segment_members"))


def created_by_crmsync(warehouse: Path) -> int:
    return rows(warehouse, "SELECT count(*) FROM crm.contacts WHERE created_by_crmsync")[0][0]


@pytest.mark.slow  # ~4 min idle; tests/push/test_provenance.py keeps one round in make test
@pytest.mark.timeout(1200)
def test_three_rounds_with_churn_and_faults_are_each_a_fixed_point(
        sandbox: SandboxServer, warehouse: Path, quick_retries: object) -> None:
    make_waabot_groups(sandbox)
    for round_ in range(1, ROUNDS + 1):
        if round_ > 1:
            churn(sandbox, update=0.05, create=0.03, delete=0.02, seed=round_)
        set_faults(sandbox, **EVERY_FAULT)
        synced(warehouse)
        transformed(warehouse)
        first = members(warehouse)
        assert first, "no segment has members: the test would prove nothing"
        made = pushed(warehouse)
        assert sum(t.added for t in made.targets()) > 0 or round_ > 1

        synced(warehouse)
        transformed(warehouse)
        second = members(warehouse)
        assert second == first, (f"round {round_}: the push's own writes moved segments: "
                                 f"entered {sorted(second - first)[:5]}, left {sorted(first - second)[:5]}")
        assert created_by_crmsync(warehouse) > 0, "no record is marked as crmsync's"

        reset_stats(sandbox)
        again = pushed(warehouse)
        no_faults(sandbox)
        assert writes(sandbox) == {} or sum(writes(sandbox).values()) == 0, \
            f"round {round_}: the push after a fixed point wrote {writes(sandbox)}"
        assert sum(t.added + t.removed for t in again.targets()) == 0
