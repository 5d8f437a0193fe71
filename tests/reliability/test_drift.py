"""Schema drift between runs: a field appears (a new column), a field disappears (the row
still loads, the column stays, null for it), a field changes type (the row loads, the value
is null and counted in the run's problems); one run after the drift ends, equal to the truth."""

from __future__ import annotations

from pathlib import Path

import httpx

from crmsync.sandbox.link import sandbox_environment
from crmsync.pipelines.sync import sync_provider
from crmsync.sandbox.server import SandboxServer
from tests.reliability.conftest import assert_raw_equals_truth, no_faults, rows, set_faults, truth
from tests.sources.conftest import churn

NEW, GONE, RETYPED = "loyaltyTier", "user_tags", "user_count"  # Chatman: new; contacts' list; segments' number


def chatman(warehouse: Path) -> dict:
    result = sync_provider("chatman", warehouse)
    assert result.error is None
    return result.problems


def api_segments(sandbox: SandboxServer) -> dict[str, int]:
    env = sandbox_environment(sandbox.url)
    listing = httpx.get(f"{env['SOURCES__CHATMAN__BASE_URL']}/segments/", timeout=10,
                        headers={"Authorization": f"Bearer {env['SOURCES__CHATMAN__API_KEY']}"})
    return {s["segment_id"]: s[RETYPED] for s in listing.raise_for_status().json()["results"]}


def test_a_field_added_dropped_and_retyped_between_runs(sandbox: SandboxServer, warehouse: Path) -> None:
    assert chatman(warehouse) == {}
    updated = set(map(str, churn(sandbox, update=0.2, seed=3)["chatman"]["contacts"]["updated"]))
    assert updated
    set_faults(sandbox, drift_add=NEW, drift_drop=GONE, drift_retype=RETYPED)
    problems = chatman(warehouse)

    # New field: a new column, filled on the rows this run loaded (the changed contacts).
    assert {u for (u,) in rows(warehouse, "SELECT user_id FROM raw_chatman.contacts "
                                          "WHERE loyalty_tier IS NOT NULL")} == updated
    # Field gone: those rows are loaded all the same, the column is kept, null for them.
    assert {u for (u,) in rows(warehouse, f"SELECT user_id FROM raw_chatman.contacts WHERE {GONE} IS NULL "
                                          "AND modified_at = (SELECT max(modified_at) FROM raw_chatman.contacts "
                                          "AS c WHERE c.user_id = contacts.user_id)")} >= updated
    # Type change: every segment loads, its count is null and counted as a problem.
    segments = truth(sandbox)["counts"]["chatman"]["segments"]
    assert problems["segments"] == {f"{RETYPED}: unreadable value": segments}
    assert rows(warehouse, f"SELECT count(*), count({RETYPED}) FROM raw_chatman.segments") == [(segments, 0)]
    assert_raw_equals_truth(sandbox, warehouse, ["chatman"])

    no_faults(sandbox)
    assert chatman(warehouse) == {}
    assert_raw_equals_truth(sandbox, warehouse, ["chatman"])
    assert dict(rows(warehouse, f"SELECT segment_id, {RETYPED} FROM raw_chatman.segments")) == api_segments(sandbox)
