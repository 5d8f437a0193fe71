"""The Chatman source against the sandbox: full load, incremental, deletions, faults, auth."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from crmsync.sandbox.server import SandboxServer
from tests.sources.conftest import SyncOnce, churn, query, set_faults, truth

TABLES = {  # warehouse table -> its primary key
    "contacts": "user_id",
    "triggered_events": "event_id",
    "campaign_events": "event_id",
    "segments": "segment_id",
    "journeys": "journey_id",
}


def live_counts(warehouse: Path) -> dict[str, int]:
    counts = {}
    for table in TABLES:
        deletable = table in ("contacts", "segments", "journeys")
        where = "WHERE deleted_at IS NULL" if deletable else ""
        counts[table] = query(warehouse, f"SELECT count(*) FROM raw_chatman.{table} {where}")[0][0]
    return counts


def test_full_sync_loads_exactly_the_truth_then_nothing(
        sandbox: SandboxServer, warehouse: Path, sync_once: SyncOnce) -> None:
    first = sync_once("chatman")
    expected = {t: n for t, n in truth(sandbox)["counts"]["chatman"].items() if t in TABLES}
    assert live_counts(warehouse) == expected
    assert first.rows["contacts"] == expected["contacts"]
    second = sync_once("chatman")
    assert second.rows == {}, second.rows
    assert second.read["contacts"] <= max(1, first.read["contacts"] // 50), second.read


def test_churn_loads_exactly_the_changes_and_marks_deletions(
        sandbox: SandboxServer, warehouse: Path, sync_once: SyncOnce,
        live_ids: Callable[..., set[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    sync_once("chatman")
    changes = churn(sandbox, update=0.05, create=0.02, delete=0.02, seed=3)["chatman"]
    contacts = changes["contacts"]
    incremental = sync_once("chatman")
    assert incremental.rows["contacts"] == len(set(contacts["updated"]) | set(contacts["created"]))
    new_events = changes.get("triggered_events", {}).get("created", [])
    assert incremental.rows.get("triggered_events", 0) == len(new_events)
    monkeypatch.setenv("SOURCES__CHATMAN__FULL_SCAN_HOURS", "0")
    full = sync_once("chatman")
    assert full.deleted["contacts"] == len(contacts["deleted"])
    assert live_ids("raw_chatman.contacts", "user_id", "deleted_at IS NOT NULL") == set(contacts["deleted"])
    people = truth(sandbox)
    expected = {p["accounts"]["chatman"] for p in people["people"] if "chatman" in p["accounts"]}
    assert live_ids("raw_chatman.contacts", "user_id") == expected


def test_faults_do_not_change_the_result(
        sandbox: SandboxServer, warehouse: Path, sync_once: SyncOnce,
        no_duplicates: Callable[[str, str], None], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__CHATMAN__PAGE_SIZE", "25")
    monkeypatch.setenv("SOURCES__CHATMAN__REQUESTS_PER_SECOND", "200")  # faster than allowed
    set_faults(sandbox, error_rate=0.25, rate_limit=30, latency_ms=5)
    result = sync_once("chatman")
    set_faults(sandbox, error_rate=0.0, rate_limit=None, latency_ms=0)
    assert result.retries > 0
    expected = {t: n for t, n in truth(sandbox)["counts"]["chatman"].items() if t in TABLES}
    assert live_counts(warehouse) == expected
    for table, key in TABLES.items():
        no_duplicates(f"raw_chatman.{table}", key)


def test_wrong_key_is_one_clear_line(
        warehouse: Path, sync_once: SyncOnce, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__CHATMAN__API_KEY", "not-the-key")
    result = sync_once("chatman", expect_ok=False)
    assert result.status == "failed"
    assert result.error == ("chatman: the API refused the credentials (401); "
                            "check sources.chatman.api_key")
    assert "not-the-key" not in result.error


def test_missing_setting_names_provider_and_setting(
        warehouse: Path, sync_once: SyncOnce, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCES__CHATMAN__BASE_URL")
    result = sync_once("chatman", expect_ok=False)
    assert result.error.startswith("chatman: missing setting sources.chatman.base_url")
    assert "SOURCES__CHATMAN__BASE_URL" in result.error
