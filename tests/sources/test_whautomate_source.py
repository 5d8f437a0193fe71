"""The Whautomate source against the sandbox: full scans, client-side incremental, messages
per changed contact (and, within the run budget, of unchanged ones: tests/sources/test_budget.py),
deletions, faults, the rate budget, auth."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from crmsync.sandbox.credentials import WHAUTOMATE_API_KEY
from crmsync.sandbox.server import SandboxServer
from crmsync.sources.common.budget import MIN_RECORDS
from crmsync.sources.common.config import provider_settings
from crmsync.sources.common.http import ApiClient
from crmsync.sources.common.known_people import known_people
from crmsync.sources.common.run import SyncRun
from crmsync.sources.whautomate import api_client
from crmsync.sources.whautomate.helpers import listing, listing_pages
from tests.sources.conftest import SyncOnce, churn, query, set_faults, truth

TABLES = {  # warehouse table -> the sandbox listing it comes from
    "contacts": "/contacts",
    "clients": "/clients",
    "contact_tags": "/contactTags",
    "segments": "/segments",
}
STAMPED = ("contacts", "clients", "contact_tags")  # tables with an updated_at to compare


@pytest.fixture(autouse=True)
def fast_client(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sandbox has no rate limit unless a test sets one: don't wait at 5 requests/s. A run
    budget of one request leaves the fewest re-reads of unchanged contacts' messages
    (MIN_RECORDS a run), so what a run reads is what changed."""
    monkeypatch.setenv("SOURCES__WHAUTOMATE__REQUESTS_PER_SECOND", "1000")
    monkeypatch.setenv("SOURCES__WHAUTOMATE__RUN_BUDGET", "1")


def whautomate_get(http: httpx.Client, path: str, **params: Any) -> Any:
    response = http.get(f"/whautomate/v1{path}", params=params)
    response.raise_for_status()
    return response.json()


def walk(http: httpx.Client, path: str) -> list[dict]:
    records, page = [], 1
    while batch := whautomate_get(http, path, limit=100, page=page):
        records += batch
        page += 1
    return records


def sandbox_rows(sandbox: SandboxServer) -> dict[str, set[tuple]]:
    """What the sandbox holds now, as the warehouse should: (id, updatedAt) or (id,) per
    table, (contact id, message id) for messages."""
    rows = {}
    contact_ids = []
    with httpx.Client(base_url=sandbox.url, headers={"x-api-key": WHAUTOMATE_API_KEY},
                      timeout=30) as http:
        for table, path in TABLES.items():
            records = walk(http, path)
            rows[table] = {(r["id"], r["updatedAt"]) if table in STAMPED else (r["id"],)
                           for r in records}
            if table == "contacts":
                contact_ids = [r["id"] for r in records]
        rows["messages"] = {(cid, m["id"]) for cid in contact_ids
                            for m in whautomate_get(http, f"/messages/{cid}")}
    return rows


def iso(moment: datetime) -> str:
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def warehouse_rows(warehouse: Path) -> dict[str, set[tuple]]:
    rows = {}
    for table in TABLES:
        columns = "id, updated_at" if table in STAMPED else "id"
        found = query(warehouse, f"SELECT {columns} FROM raw_whautomate.{table} WHERE deleted_at IS NULL")
        rows[table] = {(r[0], iso(r[1])) if table in STAMPED else (r[0],) for r in found}
    rows["messages"] = set(query(warehouse, "SELECT contact_id, id FROM raw_whautomate.messages "
                                            "WHERE deleted_at IS NULL"))
    return rows


def live_counts(warehouse: Path) -> dict[str, int]:
    return {table: len(rows) for table, rows in warehouse_rows(warehouse).items()}


def deleted_ids(warehouse: Path, table: str) -> set[str]:
    return {r[0] for r in query(warehouse, f"SELECT id FROM raw_whautomate.{table} "
                                           "WHERE deleted_at IS NOT NULL")}


def assert_no_duplicates(warehouse: Path) -> None:
    for table in (*TABLES, "messages"):
        rows = query(warehouse, f"SELECT id, count(*) FROM raw_whautomate.{table} "
                                "GROUP BY 1 HAVING count(*) > 1")
        assert rows == [], f"duplicate keys in {table}: {rows[:5]}"


def test_full_sync_loads_exactly_the_truth_then_nothing(
        sandbox: SandboxServer, warehouse: Path, sync_once: SyncOnce) -> None:
    first = sync_once("whautomate")
    expected = truth(sandbox)["counts"]["whautomate"]
    assert set(expected) == {*TABLES, "messages"}
    assert live_counts(warehouse) == expected
    assert first.rows == expected  # each record loaded once
    assert warehouse_rows(warehouse) == sandbox_rows(sandbox)
    second = sync_once("whautomate")
    assert second.rows == {}, second.rows
    assert second.read["contacts"] == expected["contacts"]  # a full scan, but nothing loaded
    # No contact changed: every page, none read ahead past a listing's end (the warehouse says
    # where it is), and the messages of only MIN_RECORDS unchanged contacts.
    page_size = provider_settings("whautomate")["page_size"]
    assert second.requests == sum(listing_pages(expected[t], page_size) for t in TABLES) + MIN_RECORDS
    assert second.deleted == {t: 0 for t in ("contacts", "messages", "clients", "contact_tags", "segments")}
    refreshed = sync_once("whautomate", full_refresh=True)  # state and tables start over
    assert refreshed.rows == expected
    assert warehouse_rows(warehouse) == sandbox_rows(sandbox)


def test_churn_loads_exactly_the_changes_and_marks_deletions(
        sandbox: SandboxServer, warehouse: Path, sync_once: SyncOnce) -> None:
    sync_once("whautomate")
    changes = churn(sandbox, update=0.1, create=0.05, delete=0.05, seed=3)["whautomate"]
    contacts, messages = changes["contacts"], changes["messages"]
    assert contacts["updated"] and contacts["created"] and contacts["deleted"] and messages["created"]
    incremental = sync_once("whautomate")
    assert incremental.rows["contacts"] == len(set(contacts["updated"]) | set(contacts["created"]))
    assert incremental.rows["messages"] == len(messages["created"])
    assert incremental.rows.get("clients", 0) == len(set(changes["clients"]["updated"]))
    assert "contact_tags" not in incremental.rows and "segments" not in incremental.rows
    # Only new and changed contacts had their messages asked for, and MIN_RECORDS unchanged.
    assert incremental.read["messages"] <= len(messages["created"]) + 6 * (len(contacts["updated"]) + MIN_RECORDS)
    assert incremental.deleted["contacts"] == len(contacts["deleted"])
    assert incremental.deleted["messages"] == len(messages["deleted"])
    assert deleted_ids(warehouse, "contacts") == set(contacts["deleted"])
    assert deleted_ids(warehouse, "messages") == set(messages["deleted"])
    assert warehouse_rows(warehouse) == sandbox_rows(sandbox)
    assert live_counts(warehouse) == truth(sandbox)["counts"]["whautomate"]
    assert sync_once("whautomate").rows == {}


@pytest.mark.slow  # every fault at once in make test: tests/reliability/test_faults_loop.py
def test_faults_do_not_change_the_result(
        sandbox: SandboxServer, warehouse: Path, sync_once: SyncOnce,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__WHAUTOMATE__PAGE_SIZE", "25")
    monkeypatch.setenv("SOURCES__WHAUTOMATE__REQUESTS_PER_SECOND", "400")  # faster than allowed
    set_faults(sandbox, error_rate=0.1, rate_limit=150, latency_ms=5)
    result = sync_once("whautomate")
    churn(sandbox, update=0.1, create=0.05, delete=0.05, seed=5)
    again = sync_once("whautomate")
    set_faults(sandbox, error_rate=0.0, rate_limit=None, latency_ms=0)
    assert result.retries > 0 and again.retries > 0
    assert live_counts(warehouse) == truth(sandbox)["counts"]["whautomate"]
    assert warehouse_rows(warehouse) == sandbox_rows(sandbox)
    assert_no_duplicates(warehouse)


def test_a_listing_that_shifts_while_read_loses_nothing(
        sandbox: SandboxServer, warehouse: Path, sync_once: SyncOnce,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A contact deleted after page 1 was read pulls the first contact of page 2 onto page 1,
    where the scan never sees it; one created after page 2 pushes the last of page 2 onto
    page 3, where the scan sees it twice."""
    monkeypatch.setenv("SOURCES__WHAUTOMATE__PAGE_SIZE", "10")
    monkeypatch.setenv("SOURCES__WHAUTOMATE__CONCURRENCY", "1")  # pages in order, one at a time
    sync_once("whautomate")
    http = httpx.Client(base_url=f"{sandbox.url}/whautomate/v1",
                        headers={"x-api-key": WHAUTOMATE_API_KEY}, timeout=30)
    first_two = http.get("/contacts", params={"limit": 20}).json()
    deleted, skipped = first_two[0]["id"], first_two[10]["id"]
    # The skipped contact changed before this run: only reading it alone brings the change.
    http.put(f"/contacts/{skipped}", json={"notes": "changed before the shift"}).raise_for_status()
    actions = {
        1: lambda: http.delete(f"/contacts/{deleted}").raise_for_status(),
        2: lambda: http.post("/contacts", json={"name": "New Person",
                                                "phoneNumber": "+2348169990001"}).raise_for_status(),
    }
    original = ApiClient.get_json

    def shifting(self: ApiClient, path: str, params: dict | None = None, accept: tuple = ()) -> Any:
        body = original(self, path, params, accept)
        if path == "/contacts" and params and params.get("page") in actions:
            actions.pop(params["page"])()
        return body

    monkeypatch.setattr(ApiClient, "get_json", shifting)
    shifted = sync_once("whautomate")
    monkeypatch.setattr(ApiClient, "get_json", original)
    assert not actions, "the listing was not read page by page"
    assert shifted.deleted["contacts"] == 0  # the skipped contact is not taken for deleted
    notes = query(warehouse, f"SELECT notes FROM raw_whautomate.contacts WHERE id = '{skipped}'")
    assert notes == [("changed before the shift",)]
    assert_no_duplicates(warehouse)
    after = sync_once("whautomate")  # sees the deletion and the contact created behind the scan
    assert after.deleted["contacts"] == 1
    assert deleted_ids(warehouse, "contacts") == {deleted}
    http.close()
    assert warehouse_rows(warehouse) == sandbox_rows(sandbox)
    assert live_counts(warehouse) == truth(sandbox)["counts"]["whautomate"]


def test_known_people_reads_the_live_contacts(
        sandbox: SandboxServer, warehouse: Path, sync_once: SyncOnce) -> None:
    sync_once("whautomate")
    people = [p for p in truth(sandbox)["people"] if "whautomate" in p["accounts"]]
    known = known_people(warehouse)
    phones = {p.phone_e164 for p in known if p.phone_e164}
    expected = {p["phone_e164"] for p in people if p["phone_e164"]}
    assert expected and expected <= phones
    emails = {p.email for p in known if p.email}
    assert emails, "no email read from the contacts"


def test_default_rate_budget_is_honoured(
        sandbox: SandboxServer, warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """At the default 5 requests/s, concurrent pages never go faster, and a server that
    enforces 5/s never has to refuse one."""
    monkeypatch.delenv("SOURCES__WHAUTOMATE__REQUESTS_PER_SECOND")
    settings = provider_settings("whautomate")
    assert settings["requests_per_second"] == 5.0
    set_faults(sandbox, rate_limit=5)
    sent: list[float] = []
    api = api_client(settings, SyncRun(warehouse=warehouse))
    api.on_response = lambda response: sent.append(time.monotonic())
    try:
        # /contactTags one per page: 7 pages, the empty one and the rest of its batch.
        pages = list(listing(api, "/contactTags", page_size=1, concurrency=4))
    finally:
        set_faults(sandbox, rate_limit=None)
        api.close()
    assert len(pages) == truth(sandbox)["counts"]["whautomate"]["contact_tags"]
    assert api.retries == 0, "the server refused requests sent within the documented budget"
    assert len(sent) >= 8
    span = max(sent) - min(sent)
    assert span >= (len(sent) - 1) / 5.0 - 0.1, f"{len(sent)} requests in {span:.2f}s"


def test_wrong_key_is_one_clear_line(
        warehouse: Path, sync_once: SyncOnce, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__WHAUTOMATE__API_KEY", "not-the-key")
    result = sync_once("whautomate", expect_ok=False)
    assert result.status == "failed"
    assert result.error == ("whautomate: the API refused the credentials (403); "
                            "check sources.whautomate.api_key")
    assert "not-the-key" not in result.error


def test_missing_key_names_provider_and_setting(
        warehouse: Path, sync_once: SyncOnce, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCES__WHAUTOMATE__API_KEY")
    result = sync_once("whautomate", expect_ok=False)
    assert result.error.startswith("whautomate: missing setting sources.whautomate.api_key")
    assert "SOURCES__WHAUTOMATE__API_KEY" in result.error

