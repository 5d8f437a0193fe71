"""DM Champ contacts the push created, against the sandbox over HTTP: the next sync reads them
(whatever `recheck_missing_hours` says), and one deleted in DM Champ is noticed by the sync
after, so the following push puts its person back in the list on a new contact."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from crmsync.pipelines.sync import sync
from crmsync.sandbox.server import SandboxServer
from crmsync.sandbox.world import World
from crmsync.transforms.runner import DEFAULT_ROOT, run_transforms

from tests.push.test_push_sandbox import build, memberships, pushed, reset_stats, rows, writes
from tests.sources import conftest as sources_fixtures

warehouse = sources_fixtures.warehouse  # a temp warehouse, providers pointed at `sandbox`


@pytest.fixture()
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxServer]:
    """recheck_missing_hours keeps its default (24 h): no person missed before is asked again
    during the test, so only reading what the push created can teach the sync about it."""
    monkeypatch.delenv("SOURCES__DMCHAMP__RECHECK_MISSING_HOURS", raising=False)
    with SandboxServer(World(seed=7, contacts=40)) as server:
        yield server


def sync_dmchamp(warehouse: Path) -> None:
    """Only DM Champ changed: sync it and transform."""
    result = sync(["dmchamp"], warehouse)["dmchamp"]
    assert result.status == "ok", result.error
    assert run_transforms(warehouse, DEFAULT_ROOT).status == "ok"


def created_by_push(warehouse: Path) -> dict[str, str]:
    """contact id -> person of the state's DM Champ memberships on contacts no sync found."""
    return dict(rows(warehouse, """
        SELECT DISTINCT contact_id, person_id FROM ops.push_state
        WHERE provider = 'dmchamp' AND contact_id NOT IN (SELECT contact_id FROM raw_dmchamp.contacts)"""))


@pytest.mark.slow  # ~15 s (three syncs, transforms and pushes); test_dmchamp_source reads pushed contacts in make test
def test_created_contacts_are_read_next_sync_and_a_deleted_one_is_put_back(
        sandbox: SandboxServer, warehouse: Path) -> None:
    build(warehouse)
    pushed(warehouse, providers=["dmchamp"])
    created = created_by_push(warehouse)
    assert created, "the push created no DM Champ contact: nothing to read"

    sync_dmchamp(warehouse)
    read = dict(rows(warehouse, "SELECT contact_id, found_by FROM raw_dmchamp.contacts "
                                "WHERE deleted_at IS NULL AND list_contains(?, contact_id)", [list(created)]))
    assert read == dict.fromkeys(created, "push")
    # They join their people: crm knows them as the DM Champ contacts of the people pushed.
    assert dict(rows(warehouse, "SELECT contact_id, person_id FROM crm.contacts WHERE provider = 'dmchamp' "
                                "AND list_contains(?, contact_id)", [list(created)])) == created
    # Their memberships stay where they are. (The multi_provider segment grows: a contact the
    # push created counts as the person being in DM Champ; that is provenance, not this test's.)
    again = pushed(warehouse, providers=["dmchamp"])
    assert sum(t.removed + t.gone + t.drift for t in again.targets()) == 0
    # Settled: a sync with no change, then a push that writes nothing.
    sync_dmchamp(warehouse)
    reset_stats(sandbox)
    settled = pushed(warehouse, providers=["dmchamp"])
    assert writes(sandbox)["dmchamp"] == 0 and sum(t.added + t.removed for t in settled.targets()) == 0

    victim, person = sorted(created.items())[0]
    dmchamp = sandbox.world.providers["dmchamp"]
    dmchamp.delete_contact(dmchamp.k_of(victim))  # deleted in DM Champ, as a user would
    sync_dmchamp(warehouse)
    assert rows(warehouse, "SELECT deleted_at IS NOT NULL FROM raw_dmchamp.contacts WHERE contact_id = ?",
                [victim]) == [(True,)]
    reset_stats(sandbox)
    pushed(warehouse, providers=["dmchamp"])
    lists = rows(warehouse, "SELECT DISTINCT target_id, contact_id FROM ops.push_state "
                            "WHERE provider = 'dmchamp' AND person_id = ?", [person])
    assert lists and all(contact not in (None, victim) for _, contact in lists)
    held = memberships(sandbox)
    assert all(contact in held[("dmchamp", list_id)] for list_id, contact in lists)
    assert rows(warehouse, "SELECT DISTINCT status FROM ops.push_log WHERE provider = 'dmchamp' "
                           "AND contact_id = ? AND operation = 'remove'", [victim]) == [("gone",)]
    assert writes(sandbox)["dmchamp"] >= 1  # created again (and listed)
