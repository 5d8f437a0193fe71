"""The Chatrace source against the sandbox: full load, incremental, deletions, comments, faults,
auth.

Chatrace lists neither contacts nor orders: contacts are reached through opportunities and by
looking up the people the other providers loaded. So every test starts from a warehouse where
the providers that sync before Chatrace (sources.PROVIDERS order, those whose source exists)
are synced; it is built once per module from a sandbox of the same seed and size, whose
people are the same, and copied for each test. What Chatrace should then hold is computed
from `/_sandbox/truth`: a contact is reachable when it owns an opportunity, or its person is
in a synced provider and the phone that provider shows (truth `phone_e164`), or the email an
email-showing synced provider shows, finds it. Contacts no client can reach are named, with
the reason, in a warning.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from crmsync.sandbox.credentials import CHATRACE_TOKEN
from crmsync.sandbox.server import SandboxServer
from crmsync.sandbox.world import EMAIL_PROVIDERS
from crmsync.sources import chatrace, registry
from crmsync.sources.chatrace.helpers import order_status_records
from crmsync.sources.chatrace.settings import SETTINGS
from crmsync.transforms.runner import DEFAULT_ROOT, run_transforms

from tests.sources.conftest import (
    TEMPLATE_WAREHOUSE,
    Expected,
    SyncOnce,
    churn,
    query,
    set_faults,
    sync_others_once,
    truth,
)

TABLES = {  # warehouse table -> its primary key (as one expression)
    "pipelines": "id",
    "stages": "pipeline_id || ':' || id",
    "pipeline_custom_fields": "pipeline_id || ':' || id",
    "tags": "id",
    "custom_fields": "id",
    "opportunities": "id",
    "opportunity_comments": "id",
    "contacts": "id",
    "orders": "order_id",
    "order_statuses": "status",  # the settings' statuses, loaded for the transforms
}
CHANGING = ("contacts", "opportunities", "opportunity_comments", "orders")


def synced_providers() -> list[str]:
    """The providers whose people Chatrace looks up: those syncing before it."""
    before = registry.names()[:registry.names().index("chatrace")]
    providers = [p for p in registry.names() if p in before]
    assert "chatman" in providers, providers
    return providers


@pytest.fixture(scope="module")
def others_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse holding every provider that syncs before Chatrace, synced once."""
    return sync_others_once(tmp_path_factory.mktemp("others"), synced_providers()) / TEMPLATE_WAREHOUSE


@pytest.fixture(autouse=True)
def others_synced(others_warehouse: Path, warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The test's warehouse starts with the other providers loaded. The sandbox has no rate
    limit unless a test sets one: don't wait for 10 requests/s."""
    shutil.copy(others_warehouse, warehouse)
    monkeypatch.setenv("SOURCES__CHATRACE__REQUESTS_PER_SECOND", "1000")


@pytest.fixture()
def http(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    """Chatrace's API in the test's sandbox (this module's own `http`)."""
    with httpx.Client(base_url=f"{sandbox.url}/chatrace", timeout=30,
                      headers={"X-ACCESS-TOKEN": CHATRACE_TOKEN}) as client:
        yield client


# -- what the sandbox holds ------------------------------------------------------------------

def pages(http: httpx.Client, path: str) -> list[dict]:
    records: list[dict] = []
    while True:
        page = http.get(path, params={"offset": len(records), "limit": 100}).json()["data"]
        records += page
        if len(page) < 100:
            return records


def sandbox_opportunities(http: httpx.Client) -> dict[str, dict]:
    pipelines = [p["id"] for p in pages(http, "/pipelines/")]
    return {str(o["id"]): {**o, "pipeline_id": p} for p in pipelines
            for o in pages(http, f"/pipelines/{p}/opportunities")}


def sandbox_comments(http: httpx.Client, opportunities: dict[str, dict]) -> dict[str, str]:
    """comment id -> opportunity id."""
    return {str(c["id"]): oid for oid, o in opportunities.items()
            for c in pages(http, f"/pipelines/{o['pipeline_id']}/opportunities/{oid}/comments")}


def found_ids(http: httpx.Client, field_id: str, value: str) -> set[str]:
    answer = http.get("/contacts/find_by_custom_field", params={"field_id": field_id, "value": value})
    return {str(c["id"]) for c in answer.json()["data"]}


def expected_contacts(sandbox: SandboxServer, http: httpx.Client,
                      before: set[str] = frozenset()) -> Expected:
    """Which live contacts of the truth a run reaches, and how. A contact reached `before`
    stays reached while it lives (each run reads it again), even if its person left the other
    providers and it owns no opportunity any more."""
    synced = synced_providers()
    owners = {str(o["contact_id"]) for o in sandbox_opportunities(http).values()}
    expected = Expected({}, {})
    for person in truth(sandbox)["people"]:
        contact_id = person["accounts"].get("chatrace")
        if contact_id is None:
            continue
        where = sorted(p for p in person["accounts"] if p in synced)
        shows_email = person["email"] if any(p in EMAIL_PROVIDERS for p in where) else None
        if contact_id in before:
            expected.reachable[contact_id] = "before"
        elif contact_id in owners:
            expected.reachable[contact_id] = "opportunity"
        elif not where:
            expected.unreachable[contact_id] = (
                f"person {person['person']} owns no opportunity and is in no synced provider")
        elif person["phone_e164"] and contact_id in found_ids(http, "phone", person["phone_e164"]):
            expected.reachable[contact_id] = "phone"
        elif shows_email and contact_id in found_ids(http, "email", shows_email):
            expected.reachable[contact_id] = "email"
        else:
            expected.unreachable[contact_id] = (
                f"person {person['person']} owns no opportunity; they are in {where}, but "
                f"Chatrace's record carries neither the phone {person['phone_e164']} they show "
                f"nor {'their email ' + shows_email if shows_email else 'an email they show'}")
    return expected


# -- what the warehouse holds ----------------------------------------------------------------

def live_ids(warehouse: Path, table: str, deleted: bool = False) -> set[str]:
    where = "deleted_at IS NOT NULL" if deleted else "deleted_at IS NULL"
    return {str(r[0]) for r in query(warehouse, f"SELECT {TABLES[table]} FROM raw_chatrace.{table} "
                                                f"WHERE {where}")}


def live_counts(warehouse: Path) -> dict[str, int]:
    return {table: len(live_ids(warehouse, table)) for table in TABLES}


def expected_counts(sandbox: SandboxServer, http: httpx.Client) -> dict[str, int]:
    """The truth's counts, plus the pipelines' custom fields (the truth does not count them)
    and the order statuses the default settings configure."""
    counts = dict(truth(sandbox)["counts"]["chatrace"])
    counts["pipeline_custom_fields"] = sum(
        len(http.get(f"/pipelines/{p['id']}/custom_fields").json()) for p in pages(http, "/pipelines/"))
    defaults = {setting.key: setting.default for setting in SETTINGS}
    counts["order_statuses"] = len(order_status_records(defaults["order_statuses"],
                                                        defaults["final_order_statuses"]))
    return counts


def assert_equal_to_sandbox(sandbox: SandboxServer, http: httpx.Client, warehouse: Path,
                            before: set[str] = frozenset()) -> None:
    expected = expected_contacts(sandbox, http, before)
    expected.say_unreachable("Chatrace contacts", synced_providers())
    assert live_ids(warehouse, "contacts") == set(expected.reachable)
    opportunities = sandbox_opportunities(http)
    assert live_ids(warehouse, "opportunities") == set(opportunities)
    assert live_ids(warehouse, "opportunity_comments") == set(sandbox_comments(http, opportunities))
    counts = live_counts(warehouse)
    wanted = expected_counts(sandbox, http)
    if expected.unreachable:  # orders of unreachable contacts cannot be counted in
        counts.pop("orders"), wanted.pop("orders")
        wanted["contacts"] = len(expected.reachable)
    assert counts == wanted


def supersede_an_order(http: httpx.Client, warehouse: Path, changes: dict) -> str:
    """Start a new cart for a contact churn left alone whose cart is an order awaiting
    payment or paid, then deliver that order: it is now reachable only by its id. Its id."""
    touched = {str(i) for table in CHANGING for kind in ("updated", "created", "deleted")
               for i in changes[table][kind]}
    candidates = query(warehouse, "SELECT order_id, contact_id FROM raw_chatrace.orders "
                                  "WHERE status IN (6, 7) ORDER BY order_id")
    for order_id, contact_id in candidates:
        if {order_id, str(contact_id)} & touched:
            continue
        product_id = 9001  # the first product of the sandbox's catalogue
        http.post(f"/contacts/{contact_id}/cart/{product_id}", data={"quantity": "1"}).raise_for_status()
        assert http.get(f"/contacts/{contact_id}/cart").json()["order_id"] != order_id
        http.post(f"/contacts/{contact_id}/order/{order_id}", json={"status": 10}).raise_for_status()
        return order_id
    raise AssertionError("no order awaiting payment or paid that churn left alone")


# -- tests -----------------------------------------------------------------------------------

def test_full_sync_loads_exactly_the_truth_then_nothing(
        sandbox: SandboxServer, http: httpx.Client, warehouse: Path, sync_once: SyncOnce,
        no_duplicates: Callable[[str, str], None]) -> None:
    first = sync_once("chatrace")
    expected = expected_contacts(sandbox, http)
    assert set(expected.reachable.values()) == {"opportunity", "phone", "email"}, \
        "some way of reaching contacts is untested"
    assert_equal_to_sandbox(sandbox, http, warehouse)
    assert first.rows == live_counts(warehouse)
    assert first.problems == {}
    for table, key in TABLES.items():
        no_duplicates(f"raw_chatrace.{table}", key)
    # DM Champ looks up Chatrace's live contacts through known_people.sql.
    known = query(warehouse, (Path(chatrace.__file__).parent / "known_people.sql").read_text())
    assert len(known) == len(expected.reachable)

    httpx.delete(f"{sandbox.url}/_sandbox/stats").raise_for_status()
    second = sync_once("chatrace")
    assert second.rows == {}, second.rows
    asked = httpx.get(f"{sandbox.url}/_sandbox/stats").json()["requests"]["chatrace"]
    lookups = sum(n for endpoint, n in asked.items() if "find_by_custom_field" in endpoint)
    assert lookups == 0, "people found or missed before were looked up again"


@pytest.mark.slow  # ~50 s
def test_churn_loads_exactly_the_changes_and_marks_deletions(
        sandbox: SandboxServer, http: httpx.Client, warehouse: Path, sync_once: SyncOnce,
        monkeypatch: pytest.MonkeyPatch) -> None:
    sync_once("chatrace")
    before = live_ids(warehouse, "contacts")
    changes = churn(sandbox, update=0.1, create=0.05, delete=0.05, seed=3)["chatrace"]
    for table in CHANGING:
        assert changes[table]["deleted"] or table == "opportunity_comments", f"no {table} deleted"
    superseded = supersede_an_order(http, warehouse, changes)  # + the new cart: 2 orders changed
    monkeypatch.setenv("SOURCES__CHATRACE__COMMENTS_FULL_REFRESH_HOURS", "0")  # new comments too
    result = sync_once("chatrace")
    for table in CHANGING:
        changed = {str(i) for i in changes[table]["updated"] + changes[table]["created"]}
        deleted = {str(i) for i in changes[table]["deleted"]}
        extra = 2 if table == "orders" else 0
        assert result.rows.get(table, 0) == len(changed) + extra, table
        assert result.deleted[table] == len(deleted), table
        assert live_ids(warehouse, table, deleted=True) == deleted, table
    assert_equal_to_sandbox(sandbox, http, warehouse, before)
    assert query(warehouse, "SELECT status FROM raw_chatrace.orders "
                            f"WHERE order_id = '{superseded}'") == [(10,)]
    # A full refresh drops the tables: the contacts and order ids reached before (the
    # superseded order is no cart any more) are carried over from the old ones.
    refreshed = sync_once("chatrace", full_refresh=True)
    assert refreshed.rows == live_counts(warehouse)
    assert_equal_to_sandbox(sandbox, http, warehouse, before)


@pytest.mark.slow  # ~20 s
def test_new_comments_wait_for_the_periodic_full_read(
        sandbox: SandboxServer, http: httpx.Client, warehouse: Path, sync_once: SyncOnce,
        monkeypatch: pytest.MonkeyPatch) -> None:
    sync_once("chatrace")
    changes = churn(sandbox, update=0.3, create=0.05, delete=0.0, seed=4)["chatrace"]
    new = {str(i) for i in changes["opportunity_comments"]["created"]}
    moved = {str(i) for i in changes["opportunities"]["updated"] + changes["opportunities"]["created"]}
    of_opportunity = sandbox_comments(http, sandbox_opportunities(http))
    on_moved = {c for c in new if of_opportunity[c] in moved}
    assert on_moved and new - on_moved, "churn gave no comment to both kinds of opportunity"
    incremental = sync_once("chatrace")  # default comments_full_refresh_hours
    assert incremental.rows.get("opportunity_comments", 0) == len(on_moved)
    assert new - live_ids(warehouse, "opportunity_comments") == new - on_moved
    monkeypatch.setenv("SOURCES__CHATRACE__COMMENTS_FULL_REFRESH_HOURS", "0")
    full = sync_once("chatrace")
    assert full.rows == {"opportunity_comments": len(new - on_moved)}
    assert live_ids(warehouse, "opportunity_comments") == set(of_opportunity)


@pytest.mark.slow  # ~15 s; tests/reliability covers Chatrace under faults in make test
def test_faults_do_not_change_the_result(
        sandbox: SandboxServer, http: httpx.Client, warehouse: Path, sync_once: SyncOnce,
        no_duplicates: Callable[[str, str], None], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__CHATRACE__PAGE_SIZE", "25")
    # The client is allowed 1000 requests/s (others_synced), the sandbox answers 150.
    set_faults(sandbox, error_rate=0.1, rate_limit=150, latency_ms=5)
    result = sync_once("chatrace")
    set_faults(sandbox, error_rate=0.0, rate_limit=None, latency_ms=0)
    statuses = httpx.get(f"{sandbox.url}/_sandbox/stats").json()["statuses"]["chatrace"]
    assert statuses.get("429") and statuses.get("500"), statuses
    assert result.retries > 0
    assert_equal_to_sandbox(sandbox, http, warehouse)
    for table, key in TABLES.items():
        no_duplicates(f"raw_chatrace.{table}", key)


def test_wrong_token_is_one_clear_line(
        warehouse: Path, sync_once: SyncOnce, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__CHATRACE__ACCESS_TOKEN", "not-the-token")
    result = sync_once("chatrace", expect_ok=False)
    assert result.error == ("chatrace: the API refused the credentials (401); "
                            "check sources.chatrace.access_token")
    assert "not-the-token" not in result.error


def test_missing_token_names_provider_and_setting(
        warehouse: Path, sync_once: SyncOnce, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCES__CHATRACE__ACCESS_TOKEN")
    result = sync_once("chatrace", expect_ok=False)
    assert result.error.startswith("chatrace: missing setting sources.chatrace.access_token")
    assert "SOURCES__CHATRACE__ACCESS_TOKEN" in result.error


def test_order_status_names_and_finality_are_configuration(
        warehouse: Path, sync_once: SyncOnce, monkeypatch: pytest.MonkeyPatch) -> None:
    """crm.orders names the statuses and tells the final ones as configured; a changed
    setting shows after the next sync (only the changed statuses load) and transform."""
    monkeypatch.setenv("SOURCES__CHATRACE__ORDER_STATUSES", '{"0": "basket", "7": "bezahlt"}')
    monkeypatch.setenv("SOURCES__CHATRACE__FINAL_ORDER_STATUSES", "[7, 13]")
    sync_once("chatrace")
    assert run_transforms(warehouse, DEFAULT_ROOT).status == "ok"
    statuses = "SELECT DISTINCT status, status_name, status_final FROM crm.orders ORDER BY status"
    configured = query(warehouse, statuses)
    assert {0, 7, 10} <= {status for status, _, _ in configured}, "the sandbox's orders lack a status"
    names = {0: ("basket", False), 7: ("bezahlt", True), 13: ("status_13", True)}
    assert configured == [(s, *names.get(s, (f"status_{s}", False))) for s, _, _ in configured]

    monkeypatch.delenv("SOURCES__CHATRACE__ORDER_STATUSES")
    monkeypatch.delenv("SOURCES__CHATRACE__FINAL_ORDER_STATUSES")
    again = sync_once("chatrace")
    assert again.rows == {"order_statuses": 5}, again.rows  # 0, 7, 13 changed; 6 and 10 are new
    assert run_transforms(warehouse, DEFAULT_ROOT).status == "ok"
    defaults = {0: ("cart", False), 6: ("awaiting_payment", False), 7: ("paid", False),
                10: ("delivered", True), 13: ("cancelled", True)}
    assert query(warehouse, statuses) == [(s, *defaults[s]) for s, _, _ in configured]
