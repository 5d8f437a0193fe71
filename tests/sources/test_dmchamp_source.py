"""The DM Champ source against the sandbox: lookups of known people, incremental, deletions,
faults, auth.

DM Champ is read by looking up the people the other providers loaded, so every test first
syncs the other providers whose source exists. What DM Champ should then yield is computed
from `/_sandbox/truth`: an account is reachable when its person has an account in a synced
provider and the phone that provider shows (truth `phone_e164`), or the email an
email-showing synced provider shows, leads to it. Accounts that cannot be reached are named,
with the reason, in a warning, and must not be found.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import httpx
import pytest
from crmsync import pipelines
from crmsync.sandbox.credentials import DMCHAMP_API_KEY
from crmsync.sandbox.server import SandboxServer
from crmsync.sandbox.world import EMAIL_PROVIDERS
from crmsync.sources import registry
from crmsync.sources.common.known_people import Person, group_people, known_people

from tests.sources.conftest import (
    TEMPLATE_WAREHOUSE,
    Expected,
    SyncOnce,
    churn,
    fast,
    query,
    set_faults,
    sync_others_once,
    truth,
)


@pytest.fixture(autouse=True)
def fast_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    fast(monkeypatch)


def synced_providers() -> list[str]:
    providers = [p for p in registry.names() if p != "dmchamp"]
    assert "chatman" in providers, providers
    return providers


@pytest.fixture(scope="module")
def others_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The other providers synced once for the whole file (with every source, that is most
    of a test's budget)."""
    return sync_others_once(tmp_path_factory.mktemp("others"), synced_providers())


@pytest.fixture()
def others_synced(others_template: Path, warehouse: Path) -> None:
    """This test's warehouse and dlt state start as the other providers left them."""
    shutil.copy(others_template / TEMPLATE_WAREHOUSE, warehouse)
    shutil.copytree(others_template / "pipelines", os.environ["CRMSYNC_PIPELINES_DIR"])


def dmchamp_get(http: httpx.Client, path: str, **params: str) -> httpx.Response:
    return http.get(f"/dmchamp/v1{path}", params={"apiKey": DMCHAMP_API_KEY, **params})


def found_id(http: httpx.Client, **params: str) -> str | None:
    response = dmchamp_get(http, "/contacts", **params)
    return response.json()["contactId"] if response.status_code == 200 else None


PUSH_TABLES = Path(pipelines.__file__).parent / "sql" / "push_tables.sql"  # the push's own tables
Known = dict[int, set[str]]  # person -> the synced providers whose loaded data holds them


def known_now(sandbox: SandboxServer, providers: list[str] | None = None) -> Known:
    """Who the synced providers (or `providers`) hold right now, according to the truth."""
    chosen = set(providers or synced_providers())
    return {p["person"]: set(p["accounts"]) & chosen for p in truth(sandbox)["people"]
            if set(p["accounts"]) & chosen}


def expected_accounts(sandbox: SandboxServer, http: httpx.Client, known: Known,
                      before: Expected | None = None) -> Expected:
    """Which DM Champ accounts of the truth the people in the warehouse (`known`) lead to,
    and how. An account found `before` stays found while it lives, even if its person left
    the other providers."""
    expected = Expected({}, {})
    for person in truth(sandbox)["people"]:
        contact_id = person["accounts"].get("dmchamp")
        if contact_id is None:
            continue
        where = sorted(known.get(person["person"], ()))
        shows_email = person["email"] if any(p in EMAIL_PROVIDERS for p in where) else None
        others = sorted(p for p in person["accounts"] if p != "dmchamp")
        if before is not None and contact_id in before.reachable:
            expected.reachable[contact_id] = before.reachable[contact_id]
        elif not where:
            expected.unreachable[contact_id] = (
                f"person {person['person']} is only in {others or 'DM Champ'}, "
                f"none of them synced")
        elif person["phone_e164"] and found_id(http, phoneNumber=person["phone_e164"]) == contact_id:
            expected.reachable[contact_id] = "phone"
        elif shows_email and found_id(http, email=shows_email) == contact_id:
            expected.reachable[contact_id] = "email"
        else:
            email_part = f"nor their email {shows_email}" if shows_email else "and they show no email"
            expected.unreachable[contact_id] = (
                f"person {person['person']} is in {where}, but DM Champ's record does not carry "
                f"the phone {person['phone_e164']} they show, {email_part}")
    return expected


def sandbox_items(http: httpx.Client, kind: str, contact_ids: set[str]) -> set[tuple[str, str]]:
    """(contact id, tag name or message id) of what DM Champ holds for these contacts."""
    field = "name" if kind == "tags" else "id"
    return {(cid, item[field]) for cid in contact_ids
            for item in dmchamp_get(http, f"/contacts/{kind}/{cid}").json()}


def live(warehouse: Path, table: str, columns: str) -> set[tuple]:
    return set(query(warehouse, f"SELECT {columns} FROM raw_dmchamp.{table} WHERE deleted_at IS NULL"))


def assert_equal_to_sandbox(http: httpx.Client, warehouse: Path, expected: Expected) -> None:
    found = dict(query(warehouse, "SELECT contact_id, found_by FROM raw_dmchamp.contacts "
                                  "WHERE deleted_at IS NULL"))
    wrongly_found = set(found) & set(expected.unreachable)
    assert not wrongly_found, f"found accounts the synced providers cannot lead to: {wrongly_found}"
    assert set(found) == set(expected.reachable)
    # An account expected by email may also be found by phone: a synced provider can show the
    # secondary phone DM Champ holds (the truth lists only the primary one).
    by_phone = {cid for cid, how in expected.reachable.items() if how == "phone"}
    assert {cid for cid in by_phone if found[cid] != "phone"} == set()
    reachable = set(expected.reachable)
    assert live(warehouse, "contact_tags", "contact_id, name") == sandbox_items(http, "tags", reachable)
    assert live(warehouse, "messages", "contact_id, id") == sandbox_items(http, "messages", reachable)


@pytest.mark.usefixtures("others_synced")
def test_full_sync_finds_every_reachable_account_then_loads_nothing(
        sandbox: SandboxServer, http: httpx.Client, warehouse: Path, sync_once: SyncOnce) -> None:
    first = sync_once("dmchamp")
    expected = expected_accounts(sandbox, http, known_now(sandbox))
    expected.say_unreachable("DM Champ accounts", synced_providers())
    assert expected.reachable, "no DM Champ account reachable: the test would prove nothing"
    assert "email" in expected.reachable.values(), "no account found by email: fallback untested"
    assert_equal_to_sandbox(http, warehouse, expected)
    assert first.rows["contacts"] == len(expected.reachable)
    if not expected.unreachable:  # every account reachable: the tables hold the whole truth
        counts = truth(sandbox)["counts"]["dmchamp"]
        assert {t: first.rows.get(t, 0) for t in counts} == counts
    second = sync_once("dmchamp")
    assert second.rows == {}, second.rows
    assert second.read["lookups"] == 0  # found and missed people are not asked again


@pytest.mark.usefixtures("others_synced")
@pytest.mark.slow  # ~20 s
def test_churn_loads_exactly_the_changes_and_marks_deletions(
        sandbox: SandboxServer, http: httpx.Client, warehouse: Path, sync_once: SyncOnce,
        monkeypatch: pytest.MonkeyPatch) -> None:
    sync_once("dmchamp")
    known_before = known_now(sandbox)
    before = expected_accounts(sandbox, http, known_before)
    messages_before = live(warehouse, "messages", "contact_id, id")
    tags_before = live(warehouse, "contact_tags", "contact_id, name")
    changes = churn(sandbox, update=0.2, create=0.1, delete=0.1, seed=5)["dmchamp"]["contacts"]
    # Only Chatman is synced again (the others would double the test's time): the warehouse
    # then holds who it held before plus Chatman's new people (its incremental run keeps the
    # deleted ones until its next full scan).
    sync_once("chatman")
    known = {person: set(where) for person, where in known_before.items()}
    for person, where in known_now(sandbox, ["chatman"]).items():
        known.setdefault(person, set()).update(where)
    after = expected_accounts(sandbox, http, known, before)
    after.say_unreachable("DM Champ accounts", synced_providers())
    deleted = set(changes["deleted"]) & set(before.reachable)
    assert deleted, "churn deleted no found contact: deletions untested"

    # Default recheck: people missed before are not asked again, so a DM Champ contact
    # created since for one of them is not found yet.
    people = {p["accounts"]["dmchamp"]: p["person"] for p in truth(sandbox)["people"]
              if "dmchamp" in p["accounts"]}
    waiting = {cid for cid in set(changes["created"]) & set(after.reachable)
               if people[cid] in known_before}
    assert waiting, "churn created no contact for a person missed before: recheck untested"
    incremental = sync_once("dmchamp")
    found = {cid for (cid,) in live(warehouse, "contacts", "contact_id")}
    assert not waiting & found
    assert found == set(after.reachable) - waiting
    assert incremental.rows.get("contacts", 0) == len(found - set(before.reachable))
    assert incremental.deleted["contacts"] == len(deleted)

    monkeypatch.setenv("SOURCES__DMCHAMP__RECHECK_MISSING_HOURS", "0")
    rechecked = sync_once("dmchamp")
    assert rechecked.rows.get("contacts", 0) == len(waiting)
    assert_equal_to_sandbox(http, warehouse, after)
    assert {cid for (cid,) in query(warehouse, "SELECT contact_id FROM raw_dmchamp.contacts "
                                               "WHERE deleted_at IS NOT NULL")} == deleted
    # Exactly the deleted contacts' messages and tags are marked; the rest stay live.
    messages_after = live(warehouse, "messages", "contact_id, id")
    gone = {m for m in messages_before if m[0] in deleted}
    assert messages_before - messages_after == gone
    tags_gone = {t for t in tags_before if t[0] in deleted}
    assert tags_before - live(warehouse, "contact_tags", "contact_id, name") == tags_gone


@pytest.mark.usefixtures("others_synced")
def test_new_messages_load_alone(
        sandbox: SandboxServer, http: httpx.Client, warehouse: Path, sync_once: SyncOnce) -> None:
    sync_once("dmchamp")
    found = {cid for (cid,) in live(warehouse, "contacts", "contact_id")}
    messages_before = live(warehouse, "messages", "contact_id, id")
    churn(sandbox, update=0.3, create=0.0, delete=0.0, seed=11)
    result = sync_once("dmchamp")
    new = sandbox_items(http, "messages", found) - messages_before
    assert new, "churn added no message to a found contact: incremental untested"
    assert result.rows == {"messages": len(new)}
    assert live(warehouse, "messages", "contact_id, id") == messages_before | new


@pytest.mark.slow  # every fault at once in make test: tests/reliability/test_faults_loop.py
@pytest.mark.usefixtures("others_synced")
def test_faults_do_not_change_the_result(
        sandbox: SandboxServer, http: httpx.Client, warehouse: Path, sync_once: SyncOnce,
        no_duplicates: Callable[[str, str], None], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__DMCHAMP__REQUESTS_PER_SECOND", "150")  # faster than allowed
    monkeypatch.setenv("SOURCES__DMCHAMP__BATCH_SIZE", "7")
    set_faults(sandbox, error_rate=0.1, rate_limit=120, latency_ms=5)
    result = sync_once("dmchamp")
    set_faults(sandbox, error_rate=0.0, rate_limit=None, latency_ms=0)
    assert result.retries > 0
    assert_equal_to_sandbox(http, warehouse, expected_accounts(sandbox, http, known_now(sandbox)))
    for table, key in (("lookups", "lookup_key"), ("contacts", "contact_id"),
                       ("contact_tags", "contact_id || ':' || name"), ("messages", "id")):
        no_duplicates(f"raw_dmchamp.{table}", key)


@pytest.mark.usefixtures("others_synced")
def test_wrong_key_is_one_clear_line(
        warehouse: Path, sync_once: SyncOnce, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__DMCHAMP__API_KEY", "not-the-key")
    result = sync_once("dmchamp", expect_ok=False)
    assert result.error == ("dmchamp: the API refused the credentials (401); "
                            "check sources.dmchamp.api_key")
    assert "not-the-key" not in result.error


def unknown_to_dmchamp(http: httpx.Client, warehouse: Path, count: int) -> list[Person]:
    """`count` known people with a phone and an email that DM Champ finds by neither."""
    chosen = []
    for person in group_people(known_people(warehouse, exclude="dmchamp")):
        if person.phone and person.emails and found_id(http, phoneNumber=person.phone) is None \
                and all(found_id(http, email=email) is None for email in person.emails):
            chosen.append(person)
            if len(chosen) == count:
                return chosen
    raise AssertionError(f"fewer than {count} known people DM Champ does not hold")


@pytest.mark.usefixtures("others_synced")
def test_a_contact_two_people_lead_to_stays_with_one_of_them(
        http: httpx.Client, warehouse: Path, sync_once: SyncOnce) -> None:
    """A DM Champ contact with one person's phone and another's email (a shared family
    address) answers both their lookups. It stays with the person whose phone found it, and
    neither person is asked again: every later run loads nothing (it used to flip between
    them, one contact row rewritten each run)."""
    phone_owner, email_owner = unknown_to_dmchamp(http, warehouse, 2)
    created = http.post("/dmchamp/v1/contacts", params={"apiKey": DMCHAMP_API_KEY},
                        json={"phoneNumber": phone_owner.phone, "email": email_owner.emails[0]})
    contact_id = created.json()["contactId"]
    assert found_id(http, email=email_owner.emails[0]) == contact_id  # both lookups lead to it
    sync_once("dmchamp")
    contact = f"SELECT phone_e164, email, found_by, found_at FROM raw_dmchamp.contacts WHERE contact_id = '{contact_id}'"
    first = query(warehouse, contact)
    assert [row[:3] for row in first] == [(phone_owner.phone, phone_owner.emails[0], "phone")]
    assert dict(query(warehouse, "SELECT lookup_key, contact_id FROM raw_dmchamp.lookups WHERE lookup_key IN "
                                 f"('{phone_owner.key}', '{email_owner.key}')")) == {
        phone_owner.key: contact_id, email_owner.key: contact_id}
    for _ in range(2):
        again = sync_once("dmchamp")
        assert again.rows == {} and again.read["lookups"] == 0, (again.rows, again.read)
        assert query(warehouse, contact) == first


def record_push(warehouse: Path, person: Person, contact_id: str) -> None:
    """What a push that created `contact_id` for `person` leaves in the warehouse: its state
    and log rows (the push's own tables) and the person in crm.people."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute(PUSH_TABLES.read_text())
        con.execute("INSERT INTO ops.push_state VALUES ('dmchamp', 'seg', 'list_spare_1', 'p1', ?, ?, now(), "
                    "'dmchamp list list_spare_1')", [contact_id, contact_id])
        con.execute("INSERT INTO ops.push_log VALUES ('run', 'dmchamp', 'seg', 'p1', ?, 'add', 'ok', NULL, now())",
                    [contact_id])
        con.execute("CREATE SCHEMA crm; CREATE TABLE crm.people (person_id VARCHAR, phone_e164 VARCHAR, "
                    "email VARCHAR)")
        con.execute("INSERT INTO crm.people VALUES ('p1', ?, ?)", [person.phone, person.emails[0]])


@pytest.mark.usefixtures("others_synced")
def test_a_contact_the_push_created_is_read_next_sync_and_its_deletion_noticed(
        sandbox: SandboxServer, http: httpx.Client, warehouse: Path, sync_once: SyncOnce) -> None:
    """The person was missed (not asked again for recheck_missing_hours), then the push
    created their contact: the next sync reads it all the same, and the one after notices
    it was deleted (the push then creates the person again)."""
    sync_once("dmchamp")
    person, = unknown_to_dmchamp(http, warehouse, 1)
    created = http.post("/dmchamp/v1/contacts", params={"apiKey": DMCHAMP_API_KEY},
                        json={"phoneNumber": person.phone, "listIds": ["list_spare_1"]})
    contact_id = created.json()["contactId"]
    record_push(warehouse, person, contact_id)
    read = sync_once("dmchamp")
    assert read.read["lookups"] == 0 and read.rows == {"contacts": 1}, (read.read, read.rows)
    row = f"SELECT phone_e164, found_by, deleted_at IS NULL FROM raw_dmchamp.contacts WHERE contact_id = '{contact_id}'"
    assert query(warehouse, row) == [(person.phone, "push", True)]
    assert sync_once("dmchamp").rows == {}

    dmchamp = sandbox.world.providers["dmchamp"]
    dmchamp.delete_contact(dmchamp.k_of(contact_id))
    gone = sync_once("dmchamp")
    assert gone.deleted["contacts"] == 1
    assert query(warehouse, row) == [(person.phone, "push", False)]
