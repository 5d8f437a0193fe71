"""The request budget of the record-by-record providers (sources/common/budget.py), against the
sandbox: DM Champ re-checks, per run, only as many contacts as its budget allows, most likely
changed first (never checked, changed in another provider), and never starves one; Whautomate
reads the messages of the contacts its listing shows changed, and of unchanged ones as far as
its budget goes; re-checks of people not found share the budget.

Chatman alone is synced first (its people are what DM Champ looks up); one full DM Champ run
confirms every contact, then budgeted runs follow.
"""

from __future__ import annotations

import math
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest
from crmsync.flows.status import read_status
from crmsync.kernel.phones import to_e164
from crmsync.sources.common import budget
from crmsync.sources.common.budget import Refresh, Refreshes, refresh_bound_runs

from crmsync.sandbox.server import SandboxServer
from crmsync.sources.common.budget import MIN_RECORDS
from crmsync.sources.whautomate.helpers import listing_pages

from tests.sources.conftest import TEMPLATE_WAREHOUSE, SyncOnce, churn, fast, query, sync_others_once


@pytest.fixture(autouse=True)
def fast_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    fast(monkeypatch)


@pytest.fixture(scope="module")
def chatman_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sync_others_once(tmp_path_factory.mktemp("chatman"), ["chatman"])


def from_chatman(chatman_template: Path, warehouse: Path) -> None:
    """The test's warehouse and dlt state: Chatman synced."""
    shutil.copy(chatman_template / TEMPLATE_WAREHOUSE, warehouse)
    shutil.copytree(chatman_template / "pipelines", os.environ["CRMSYNC_PIPELINES_DIR"])


@pytest.fixture()
def all_confirmed(chatman_template: Path, warehouse: Path, sync_once: SyncOnce) -> list[str]:
    """Chatman synced, then one DM Champ run with no bound (derived at 1,000 requests a second):
    every live contact confirmed; their ids."""
    from_chatman(chatman_template, warehouse)
    sync_once("dmchamp")
    contacts = [r[0] for r in query(warehouse, "SELECT contact_id FROM raw_dmchamp.contacts "
                                               "WHERE deleted_at IS NULL ORDER BY 1")]
    assert len(contacts) >= 20, contacts
    assert set(confirmed(warehouse, "messages")) == set(contacts)
    return contacts


def confirmed(warehouse: Path, resource: str, provider: str = "dmchamp") -> dict[str, datetime]:
    """contact id -> when a run last confirmed it."""
    return dict(query(warehouse, f"SELECT record_key, confirmed_at FROM ops.confirmed "
                                 f"WHERE provider = '{provider}' AND resource = '{resource}'"))


def latest_run(warehouse: Path, resource: str, provider: str = "dmchamp") -> set[str]:
    """The contacts the latest run confirmed."""
    times = confirmed(warehouse, resource, provider)
    return {key for key, at in times.items() if at == max(times.values())}


def live_rows(warehouse: Path) -> tuple[int, int, int]:
    return query(warehouse, "SELECT (SELECT count(*) FROM raw_dmchamp.contacts WHERE deleted_at IS NULL), "
                            "(SELECT count(*) FROM raw_dmchamp.contact_tags WHERE deleted_at IS NULL), "
                            "(SELECT count(*) FROM raw_dmchamp.messages WHERE deleted_at IS NULL)")[0]


def changed_in_chatman(warehouse: Path, contacts: list[str]) -> None:
    """The people of these DM Champ contacts changed in Chatman just now."""
    with_phone = query(warehouse, "SELECT phone_e164 FROM raw_dmchamp.contacts WHERE contact_id IN "
                                  f"({', '.join(repr(c) for c in contacts)})")
    with duckdb.connect(str(warehouse)) as con:
        con.execute("UPDATE raw_chatman.contacts SET modified_at = now() WHERE '+' || wa_id IN "
                    f"({', '.join(repr(p) for (p,) in with_phone)})")


def test_budgeted_runs_recheck_the_most_likely_changed_first_and_starve_none(
        all_confirmed: list[str], warehouse: Path, sync_once: SyncOnce, monkeypatch: pytest.MonkeyPatch) -> None:
    contacts = all_confirmed
    records = 8  # per resource and run: 4 stalest, 4 most likely changed
    monkeypatch.setenv("SOURCES__DMCHAMP__RUN_BUDGET", str(2 * records))
    before = live_rows(warehouse)
    # Never checked: its confirmation lost. Changed elsewhere: the last contacts in staleness order.
    with duckdb.connect(str(warehouse)) as con:
        con.execute("DELETE FROM ops.confirmed WHERE record_key = ?", [contacts[-1]])
    changed_in_chatman(warehouse, contacts[-4:-1])

    result = sync_once("dmchamp")

    assert result.requests == 2 * records  # no look-up left to do: the budget, all of it
    for resource in ("contact_tags", "messages"):
        chosen = latest_run(warehouse, resource)
        assert len(chosen) == records
        assert set(contacts[-4:]) <= chosen, "never checked and changed elsewhere come first"
    assert live_rows(warehouse) == before, "what the budget skipped keeps its tags and messages"

    # Nothing starves: contacts changing elsewhere every run would fill every run's budget.
    records = math.ceil(len(contacts) / 2)
    monkeypatch.setenv("SOURCES__DMCHAMP__RUN_BUDGET", str(2 * records))
    busy = contacts[:records]
    runs = refresh_bound_runs(len(contacts), records)
    assert runs == 4
    started = datetime.now(timezone.utc)
    for _ in range(runs):
        changed_in_chatman(warehouse, busy)
        sync_once("dmchamp")
        assert len(latest_run(warehouse, "messages")) == records
    last = confirmed(warehouse, "messages")
    assert {c for c in contacts if last[c] < started} == set(), "a contact starved"
    assert live_rows(warehouse) == before
    # `crmsync status` shows it: per provider and resource, the oldest and median age.
    stale = {(r["provider"], r["resource"]): r for r in read_status(warehouse).staleness}
    assert set(stale) == {("dmchamp", "contact_tags"), ("dmchamp", "messages")}
    assert stale["dmchamp", "messages"]["records"] == len(contacts)
    assert stale["dmchamp", "messages"]["oldest_confirmed_at"] >= started


def test_chatrace_rereads_contacts_and_carts_within_its_budget(
        warehouse: Path, sync_once: SyncOnce, monkeypatch: pytest.MonkeyPatch) -> None:
    """Chatrace alone (it reaches contacts through opportunities too): a budget spent by the
    listings leaves the least, two contacts, carts and open orders, never-read first; nothing
    skipped is marked deleted."""
    sync_once("chatrace")
    counts = ("SELECT (SELECT count(*) FROM raw_chatrace.contacts WHERE deleted_at IS NULL), "
              "(SELECT count(*) FROM raw_chatrace.orders WHERE deleted_at IS NULL)")
    before = query(warehouse, counts)[0]
    contacts = sorted(r[0] for r in query(warehouse, "SELECT record_key FROM ops.confirmed "
                                                     "WHERE provider = 'chatrace' AND resource = 'contacts'"))
    assert len(contacts) == before[0] > 4
    with duckdb.connect(str(warehouse)) as con:
        con.execute("DELETE FROM ops.confirmed WHERE record_key = ?", [contacts[-1]])
    monkeypatch.setenv("SOURCES__CHATRACE__RUN_BUDGET", "1")

    sync_once("chatrace")

    for resource in ("contacts", "orders", "open_orders"):
        times = dict(query(warehouse, "SELECT record_key, confirmed_at FROM ops.confirmed "
                                      f"WHERE provider = 'chatrace' AND resource = '{resource}'"))
        latest = {key for key, at in times.items() if at == max(times.values())}
        if resource == "open_orders":  # those no cart showed: two at most
            assert 0 < len(latest) <= 2, times
        else:
            assert len(latest) == 2 and contacts[-1] in latest, resource
    assert query(warehouse, counts)[0] == before


def test_the_plan_of_a_resource_that_failed_alone_confirms_nothing(tmp_path: Path) -> None:
    """budget.save after a partial run: what a failed resource would have re-read stays as stale
    as it was (its next run picks it again)."""
    warehouse = tmp_path / "warehouse.duckdb"
    refreshes = Refreshes()
    refreshes.add(Refresh("contacts", ["1", "2"], ["1"]))
    refreshes.add(Refresh("open_orders", ["o1"], ["o1"], within="orders"))
    budget.save(warehouse, "chatrace", refreshes, failed={"orders"})
    assert query(warehouse, "SELECT resource, record_key FROM ops.confirmed") == [("contacts", "1")]


def test_rechecks_of_people_not_found_share_the_budget(
        all_confirmed: list[str], warehouse: Path, sync_once: SyncOnce, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past recheck_missing_hours every miss falls due at once: a run re-checks only the longest
    missed as far as its budget goes, and the others on the next runs."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute("UPDATE raw_dmchamp.lookups SET looked_up_at = looked_up_at - INTERVAL 2 DAY "
                    "WHERE contact_id IS NULL")
        oldest = con.execute("UPDATE raw_dmchamp.lookups SET looked_up_at = looked_up_at - INTERVAL 1 DAY "
                             "WHERE lookup_key = (SELECT min(lookup_key) FROM raw_dmchamp.lookups "
                             "WHERE contact_id IS NULL) RETURNING lookup_key").fetchone()[0]
    misses = query(warehouse, "SELECT count(*) FROM raw_dmchamp.lookups WHERE contact_id IS NULL")[0][0]
    run_budget = 12
    assert misses > run_budget, "enough misses to burst past the budget"
    monkeypatch.setenv("SOURCES__DMCHAMP__RECHECK_MISSING_HOURS", "24")
    monkeypatch.setenv("SOURCES__DMCHAMP__RUN_BUDGET", str(run_budget))

    result = sync_once("dmchamp")

    assert result.requests <= run_budget
    asked = {key for (key,) in query(warehouse, "SELECT lookup_key FROM raw_dmchamp.lookups "
                                                "WHERE looked_up_at > now() - INTERVAL 1 HOUR")}
    assert oldest in asked and 0 < len(asked) < misses


def test_whautomate_reads_changed_contacts_messages_then_the_budgets_choice(
        chatman_template: Path, warehouse: Path, sandbox: SandboxServer, sync_once: SyncOnce,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Whautomate's listing tells which contacts changed (their messages are read whatever the
    budget), not whether an unchanged one got a message: those are re-read within the budget,
    never checked and changed in another provider first, the stalest advancing every run."""
    from_chatman(chatman_template, warehouse)
    sync_once("whautomate")
    contacts = sorted(confirmed(warehouse, "messages", "whautomate"))
    updated = set(churn(sandbox, update=0.05, seed=5)["whautomate"]["contacts"]["updated"])
    in_chatman = {f"+{wa_id}" for (wa_id,) in query(warehouse, "SELECT wa_id FROM raw_chatman.contacts")}
    phones = dict(query(warehouse, "SELECT id, phone_number FROM raw_whautomate.contacts"))
    elsewhere = next(c for c in contacts if c not in updated and to_e164(phones[c]) in in_chatman)
    never = next(c for c in reversed(contacts) if c not in updated and c != elsewhere)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("DELETE FROM ops.confirmed WHERE record_key = ?", [never])
        con.execute("UPDATE raw_chatman.contacts SET modified_at = now() WHERE '+' || wa_id = ?",
                    [to_e164(phones[elsewhere])])
    monkeypatch.setenv("SOURCES__WHAUTOMATE__RUN_BUDGET", "1")  # leaves MIN_RECORDS re-reads

    result = sync_once("whautomate")

    assert latest_run(warehouse, "messages", "whautomate") == updated | {never, elsewhere}
    pages = sum(listing_pages(query(warehouse, f"SELECT count(*) FROM raw_whautomate.{table}")[0][0], 100)
                for table in ("contacts", "clients", "contact_tags", "segments"))
    assert result.requests == pages + len(updated) + MIN_RECORDS  # every page, then the messages
    # The stalest advance whatever changes: the next run re-reads the stalest unchanged one too.
    read_before = updated | {never, elsewhere}
    updated = set(churn(sandbox, update=0.05, seed=6)["whautomate"]["contacts"]["updated"])
    stalest = min(c for c in contacts if c not in read_before | updated)
    sync_once("whautomate")
    assert stalest in latest_run(warehouse, "messages", "whautomate")
