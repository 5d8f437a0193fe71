"""The models on small fixture tables: raw_* tables written straight into a temporary DuckDB
file (no sandbox, no HTTP), the models built by the runner, the results read back.

Phones are example numbers of the phonenumbers library written in the shapes providers send
(national with trunk and a separate code, spaced, bracketed, bare digits), so the expected
E.164 is computed, not typed in.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import phonenumbers
import pytest
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from crmsync.sources.chatrace.helpers import order_status_records
from crmsync.sources.chatrace.settings import SETTINGS as CHATRACE_SETTINGS
from crmsync.transforms.runner import TransformResult, run_transforms

# The columns of the raw tables the staging models read (a subset of what a sync loads).
TS = "TIMESTAMPTZ"
RAW: dict[str, dict[str, str]] = {
    "raw_chatman.contacts": {"user_id": "VARCHAR", "country_code": "VARCHAR", "phone_number": "VARCHAR",
                             "first_name": "VARCHAR", "last_name": "VARCHAR", "email": "VARCHAR",
                             "whatsapp_opted": "BOOLEAN", "user_tags": "JSON", "created_at": TS,
                             "modified_at": TS, "deleted_at": TS},
    "raw_chatman.triggered_events": {"event_id": "VARCHAR", "event_name": "VARCHAR", "user_id": "VARCHAR",
                                     "attributes": "VARCHAR", "triggered_at": TS},
    "raw_chatman.campaign_events": {"event_id": "VARCHAR", "campaign_id": "VARCHAR", "user_id": "VARCHAR",
                                    "status": "VARCHAR", "occurred_at": TS},
    "raw_whautomate.contacts": {"id": "VARCHAR", "name": "VARCHAR", "phone_number": "VARCHAR",
                                "email": "VARCHAR", "tags": "JSON", "created_at": TS, "updated_at": TS,
                                "deleted_at": TS},
    "raw_whautomate.messages": {"id": "VARCHAR", "contact_id": "VARCHAR", "direction": "VARCHAR",
                                "type": "VARCHAR", "text": "VARCHAR", "status": "VARCHAR", "created_at": TS,
                                "deleted_at": TS},
    "raw_waabot.contacts": {"id": "VARCHAR", "name": "VARCHAR", "number": "VARCHAR", "group_id": "VARCHAR",
                            "created_at": TS, "updated_at": TS, "deleted_at": TS},
    "raw_waabot.contact_groups": {"id": "VARCHAR", "title": "VARCHAR", "is_default": "BOOLEAN",
                                  "client_id": "VARCHAR", "created_at": TS, "updated_at": TS,
                                  "deleted_at": TS},
    "raw_chatrace.contacts": {"id": "BIGINT", "first_name": "VARCHAR", "last_name": "VARCHAR",
                              "phone": "VARCHAR", "email": "VARCHAR", "subscribed": "BIGINT",
                              "tags": "VARCHAR", "subscribed_date": TS, "deleted_at": TS},
    "raw_chatrace.opportunities": {"id": "BIGINT", "pipeline_id": "BIGINT", "contact_id": "BIGINT",
                                   "title": "VARCHAR", "description": "VARCHAR", "value": "DOUBLE",
                                   "status": "VARCHAR", "priority": "VARCHAR", "stage_id": "BIGINT",
                                   "stage_name": "VARCHAR", "created_at": TS, "updated_at": TS,
                                   "deleted_at": TS},
    "raw_chatrace.opportunity_comments": {"id": "BIGINT", "opportunity_id": "BIGINT", "pipeline_id": "BIGINT",
                                          "text": "VARCHAR", "created_at": TS, "created_by": "BIGINT",
                                          "deleted_at": TS},
    "raw_chatrace.orders": {"order_id": "VARCHAR", "contact_id": "BIGINT", "status": "BIGINT",
                            "currency": "VARCHAR", "total": "BIGINT", "subtotal": "BIGINT",
                            "coupon_discount": "BIGINT", "total_items": "BIGINT", "coupon": "VARCHAR",
                            "line_items": "VARCHAR", "created_at": TS, "updated_at": TS, "deleted_at": TS},
    "raw_chatrace.pipelines": {"id": "BIGINT", "name": "VARCHAR", "deleted_at": TS},
    "raw_chatrace.order_statuses": {"status": "BIGINT", "name": "VARCHAR", "final": "BOOLEAN", "deleted_at": TS},
    "raw_dmchamp.contacts": {"contact_id": "VARCHAR", "phone_e164": "VARCHAR", "email": "VARCHAR",
                             "found_by": "VARCHAR", "found_at": TS, "deleted_at": TS},
    "raw_dmchamp.contact_tags": {"tag_id": "VARCHAR", "contact_id": "VARCHAR", "name": "VARCHAR",
                                 "description": "VARCHAR", "deleted_at": TS},
    "raw_dmchamp.messages": {"id": "VARCHAR", "contact_id": "VARCHAR", "direction": "VARCHAR",
                             "channel": "VARCHAR", "text": "VARCHAR", "created_at": TS, "deleted_at": TS},
}
PROVIDERS = ("chatman", "dmchamp", "whautomate", "waabot", "chatrace")
# What a Chatrace sync loads with the default settings: the order statuses' names and finality.
_DEFAULTS = {setting.key: setting.default for setting in CHATRACE_SETTINGS}
ORDER_STATUSES = order_status_records(_DEFAULTS["order_statuses"], _DEFAULTS["final_order_statuses"])
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
Rows = dict[str, list[dict[str, Any]]]


# -- fixtures and helpers -----------------------------------------------------------------------
class Phone:
    """A valid mobile number of `region` (the library's example, varied by `n`) in every shape."""

    def __init__(self, region: str, n: int = 0) -> None:
        example = phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE)
        number = phonenumbers.parse(f"+{example.country_code}{example.national_number + n}")
        assert phonenumbers.is_valid_number(number), f"{region} example + {n} is not a valid number"
        self.code = f"+{number.country_code}"
        self.e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
        self.national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)  # trunk 0, spaces
        self.spaced = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
        self.digits = self.e164[1:]
        nsn = str(number.national_number)
        self.bracketed = f"{self.code} ({nsn[:3]}) {nsn[3:6]}-{nsn[6:]}"


CORE = ["crm.people", "crm.events", "crm.opportunities", "crm.orders"]


def build(tmp_path: Path, rows: Rows, segments: bool = False) -> tuple[Path, TransformResult]:
    """Write `rows` as raw tables (a table listed with [] exists empty; one not listed does
    not exist: its provider never synced), build the models (and the segments: a full run)
    and assert the run passed."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    warehouse = tmp_path / "fixture.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        for table, records in rows.items():
            columns = RAW[table]
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {table.split('.')[0]}")
            con.execute(f"CREATE OR REPLACE TABLE {table} ({', '.join(f'{c} {t}' for c, t in columns.items())})")
            for record in records:
                unknown = set(record) - set(columns)
                assert not unknown, f"{table} has no column {unknown}"
                con.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
                            [record.get(c) for c in columns])
    result = run_transforms(warehouse, select=None if segments else CORE)
    failed = [t.message for t in result.tests if t.status != "pass"]
    assert result.status == "ok", f"{result.error}\n" + "\n".join(failed)
    return warehouse, result


def rows_of(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def persons(warehouse: Path) -> dict[str, str | None]:
    """'<provider>:<contact_id>' -> person_id, every contact."""
    return {f"{p}:{c}": pid for p, c, pid in rows_of(warehouse, "SELECT provider, contact_id, person_id FROM crm.contacts")}


def groups(warehouse: Path) -> set[frozenset[str]]:
    """The live contacts grouped by person, as a partition."""
    by_person: dict[str, set[str]] = {}
    for p, c, pid in rows_of(warehouse, "SELECT provider, contact_id, person_id FROM crm.contacts "
                                        "WHERE deleted_at IS NULL"):
        by_person.setdefault(pid, set()).add(f"{p}:{c}")
    return {frozenset(members) for members in by_person.values()}


def chatman(user_id: str, phone: Phone | None = None, email: str | None = None, **extra: Any) -> dict:
    """A Chatman contact as the sync loads it: national number with a separate country code."""
    return {"user_id": user_id, "country_code": phone.code if phone else None,
            "phone_number": phone.national if phone else None, "first_name": "Ada", "last_name": "Eze",
            "email": email, "whatsapp_opted": True, "user_tags": '["vip"]', "created_at": T0,
            "modified_at": T0, **extra}


def whautomate(contact_id: str, phone: str | None, email: str | None = None, **extra: Any) -> dict:
    return {"id": contact_id, "name": "Ada Eze", "phone_number": phone, "email": email, "tags": "[]",
            "created_at": T0, "updated_at": T0, **extra}


def waabot(record_id: str, number: str | None, group_id: str = "g1", **extra: Any) -> dict:
    return {"id": record_id, "name": "Ada", "number": number, "group_id": group_id, "created_at": T0,
            "updated_at": T0, **extra}


def chatrace(contact_id: int, phone: str | None, email: str | None = None, **extra: Any) -> dict:
    return {"id": contact_id, "first_name": "Ada", "last_name": "Eze", "phone": phone, "email": email,
            "subscribed": 1, "tags": '[{"id": 1, "name": "newsletter"}]', "subscribed_date": T0, **extra}


def dmchamp(contact_id: str, phone: str | None, email: str | None, found_by: str, **extra: Any) -> dict:
    return {"contact_id": contact_id, "phone_e164": phone, "email": email, "found_by": found_by,
            "found_at": T0, **extra}


# -- phones and emails --------------------------------------------------------------------------
def test_phones_in_every_shape_normalise_to_e164_and_junk_to_null(tmp_path: Path) -> None:
    ng, gb, us, ke = Phone("NG"), Phone("GB"), Phone("US"), Phone("KE")
    junk = ["status", "120363045767536459", "{Hi|Hello} [name] your message has no keyword here.", "N/A", "", None]
    warehouse, _ = build(tmp_path, {
        "raw_chatman.contacts": [chatman("cm-ng", ng)],
        "raw_whautomate.contacts": [whautomate("wa-gb", gb.bracketed), whautomate("wa-us", us.spaced)],
        "raw_waabot.contacts": [waabot("wb-ke", ke.digits)] + [waabot(f"wb-junk-{i}", j) for i, j in enumerate(junk)],
        "raw_waabot.contact_groups": [],
    })
    phones = dict((f"{p}:{c}", e) for p, c, e in rows_of(warehouse, "SELECT provider, contact_id, phone_e164 FROM crm.contacts"))
    assert phones["chatman:cm-ng"] == ng.e164  # national 0803... read with the separate country code
    assert phones["whautomate:wa-gb"] == gb.e164
    assert phones["whautomate:wa-us"] == us.e164
    assert phones["waabot:wb-ke"] == ke.e164
    assert {phones[f"waabot:wb-junk-{i}"] for i in range(len(junk))} == {None}
    # Junk never joins anyone: every junk record is a person of its own.
    by_contact = persons(warehouse)
    junk_people = {by_contact[f"waabot:wb-junk-{i}"] for i in range(len(junk))}
    assert len(junk_people) == len(junk) and None not in junk_people


def test_a_possible_number_the_library_calls_unallocated_keeps_its_e164_and_joins(tmp_path: Path) -> None:
    """UK mobiles +44 7911 67... are newer than phonenumbers' metadata: not "valid" there, but
    a plausible number. The person must not split in two; the quality column says which is which."""
    new_range = "+447911670123"
    warehouse, _ = build(tmp_path, {
        "raw_whautomate.contacts": [whautomate("wa-uk", new_range), whautomate("wa-ng", Phone("NG").spaced),
                                    whautomate("wa-junk", "status"), whautomate("wa-none", None)],
        "raw_waabot.contacts": [waabot("wb-uk", new_range.lstrip("+"))],
        "raw_waabot.contact_groups": [],
    })
    quality = {f"{p}:{c}": (e, q) for p, c, e, q in rows_of(
        warehouse, "SELECT provider, contact_id, phone_e164, phone_quality FROM crm.contacts")}
    assert quality["whautomate:wa-uk"] == quality["waabot:wb-uk"] == (new_range, "possible")
    assert quality["whautomate:wa-ng"] == (Phone("NG").e164, "valid")
    assert quality["whautomate:wa-junk"] == (None, "junk") and quality["whautomate:wa-none"] == (None, None)
    assert frozenset({"whautomate:wa-uk", "waabot:wb-uk"}) in groups(warehouse)


def test_emails_are_trimmed_lower_cased_and_invalid_ones_null(tmp_path: Path) -> None:
    address = "Ada.Eze@Example.COM"
    raw = {"ok": f"  {address}\t", "empty": "", "blank": "   ", "no-at": "ada.eze", "no-domain": "ada@", "none": None,
           "spaced": "ada eze@example.com"}
    warehouse, _ = build(tmp_path, {
        "raw_whautomate.contacts": [whautomate(key, None, email) for key, email in raw.items()],
    })
    emails = dict(rows_of(warehouse, "SELECT contact_id, email FROM crm.contacts"))
    assert emails == {key: (address.lower() if key == "ok" else None) for key in raw}
    # An empty or invalid email joins nobody: each of those contacts is its own person.
    assert len(groups(warehouse)) == len(raw)


def test_same_email_in_another_case_joins(tmp_path: Path) -> None:
    warehouse, _ = build(tmp_path, {
        "raw_whautomate.contacts": [whautomate("a", None, "ADA@example.com")],
        "raw_chatrace.contacts": [chatrace(1, None, " ada@EXAMPLE.com ")],
    })
    assert groups(warehouse) == {frozenset({"whautomate:a", "chatrace:1"})}


# -- identity resolution ------------------------------------------------------------------------
def test_identity_follows_chains_of_phones_and_emails(tmp_path: Path) -> None:
    """Contacts joined by a phone, then an email, then a phone... are one person, wherever
    the smallest key sits in the chain; a contact sharing nothing stays alone."""
    p1, p2, p3 = Phone("NG", 1), Phone("NG", 2), Phone("NG", 3)
    warehouse, _ = build(tmp_path, {
        # The smallest key (chatman:...) sits in the middle of the chain, the largest at an end.
        "raw_chatman.contacts": [chatman("c", p2, "e2@x.com"), chatman("z-alone", Phone("NG", 9), "alone@x.com")],
        "raw_whautomate.contacts": [whautomate("a", p1.spaced, None), whautomate("e", None, "e3@x.com")],
        "raw_waabot.contacts": [waabot("b", p1.digits), waabot("b2", p2.digits)],
        "raw_waabot.contact_groups": [],
        "raw_chatrace.contacts": [chatrace(4, p3.bracketed, "E2@x.com"), chatrace(5, p3.digits, "e3@x.com")],
    })
    # b2 -p2- c -e2- 4 -p3- 5 -e3- e is one chain; a -p1- b another.
    assert groups(warehouse) == {
        frozenset({"whautomate:a", "waabot:b"}),
        frozenset({"chatman:c", "waabot:b2", "chatrace:4", "chatrace:5", "whautomate:e"}),
        frozenset({"chatman:z-alone"}),
    }


def test_a_long_chain_converges_to_one_person(tmp_path: Path) -> None:
    """Twelve contacts, each sharing a phone with the one before or an email with the one
    after, keyed so the smallest key is at the far end: labels need many rounds."""
    n = 12
    phones = [Phone("GB", i) for i in range(n)]
    records = []
    for i in range(n):
        phone = phones[i // 2 * 2].bracketed if i % 2 == 0 else phones[i // 2 * 2].digits  # pairs share a phone
        email = f"link{(i + 1) // 2}@x.com" if 0 < i < n - 1 else None  # 1-2, 3-4, ... share an email
        records.append(whautomate(f"w{n - i:02d}", phone, email))
    warehouse, _ = build(tmp_path, {"raw_whautomate.contacts": records})
    assert groups(warehouse) == {frozenset(f"whautomate:w{n - i:02d}" for i in range(n))}


def test_deleted_contacts_join_nobody_but_are_attached_when_they_can_be(tmp_path: Path) -> None:
    p1, p2, p3 = Phone("KE", 1), Phone("KE", 2), Phone("KE", 3)
    gone = {"deleted_at": T0 + timedelta(days=1)}
    warehouse, _ = build(tmp_path, {
        "raw_chatman.contacts": [chatman("left", p1, None), chatman("right", p2, None),
                                 # carried both phones: it would have bridged left and right
                                 chatman("bridge", p1, "bridge@x.com", **gone),
                                 chatman("orphan", p3, None, **gone)],
        "raw_whautomate.contacts": [whautomate("bridge2", p2.spaced, "bridge@x.com", **gone)],
    })
    assert groups(warehouse) == {frozenset({"chatman:left"}), frozenset({"chatman:right"})}
    by_contact = persons(warehouse)
    assert by_contact["chatman:bridge"] == by_contact["chatman:left"]  # attached through its live phone
    assert by_contact["whautomate:bridge2"] == by_contact["chatman:right"]
    assert by_contact["chatman:orphan"] is None  # shares nothing with a live contact
    assert rows_of(warehouse, "SELECT count(*) FROM crm.people")[0][0] == 2


def test_person_id_is_stable_while_its_members_stay(tmp_path: Path) -> None:
    phone = Phone("IN")
    first, _ = build(tmp_path / "1", {"raw_chatman.contacts": [chatman("m1", phone, None)],
                                      "raw_chatrace.contacts": [chatrace(7, phone.spaced)]})
    # The same people plus a newcomer joining them and a stranger: the person keeps its id.
    second, _ = build(tmp_path / "2", {"raw_chatman.contacts": [chatman("m1", phone, None), chatman("s", Phone("IN", 5), None)],
                                       "raw_chatrace.contacts": [chatrace(7, phone.spaced)],
                                       "raw_whautomate.contacts": [whautomate("new", phone.digits)]})
    before, after = persons(first), persons(second)
    assert after["chatman:m1"] == before["chatman:m1"] == before["chatrace:7"]
    assert after["whautomate:new"] == after["chatman:m1"] != after["chatman:s"]


def test_dmchamp_contacts_carry_only_what_found_them(tmp_path: Path) -> None:
    """A contact found by phone does not carry the email stored beside it (that is the known
    person's, not DM Champ's), and one found by email not the phone."""
    p1, p2 = Phone("NG", 11), Phone("NG", 12)
    warehouse, _ = build(tmp_path, {
        "raw_dmchamp.contacts": [dmchamp("65b02770b492000000000012", p1.e164, "other@x.com", "phone"),
                                 dmchamp("65b02770b492000000000013", p2.e164, "found@x.com", "email")],
        "raw_dmchamp.contact_tags": [{"tag_id": "65b02770b492000000000012:vip", "contact_id": "65b02770b492000000000012",
                                      "name": "vip", "description": ""}],
        "raw_chatman.contacts": [chatman("other-owner", None, "other@x.com"), chatman("p2-owner", p2, None)],
    })
    contacts = {c: (phone, email, tags) for c, phone, email, tags in rows_of(
        warehouse, "SELECT contact_id, phone_e164, email, tags FROM crm.contacts WHERE provider = 'dmchamp'")}
    assert contacts["65b02770b492000000000012"] == (p1.e164, None, ["vip"])
    assert contacts["65b02770b492000000000013"] == (None, "found@x.com", [])
    assert frozenset({"dmchamp:65b02770b492000000000012", "chatman:other-owner"}) not in groups(warehouse)


def test_waabot_records_of_one_person_are_one_person_with_group_tags(tmp_path: Path) -> None:
    phone = Phone("NG", 21)
    warehouse, _ = build(tmp_path, {
        "raw_waabot.contacts": [waabot("r1", phone.digits, "g1"), waabot("r2", phone.spaced, "g2"),
                                waabot("r3", phone.e164, "other-client")],
        "raw_waabot.contact_groups": [{"id": "g1", "title": "Customers"}, {"id": "g2", "title": "Leads"}],
    })
    assert groups(warehouse) == {frozenset({"waabot:r1", "waabot:r2", "waabot:r3"})}
    tags = dict(rows_of(warehouse, "SELECT contact_id, tags FROM crm.contacts"))
    assert tags == {"r1": ["Customers"], "r2": ["Leads"], "r3": []}
    assert rows_of(warehouse, "SELECT providers, contact_count FROM crm.people") == [(["waabot"], 3)]


# -- missing providers, events, money -----------------------------------------------------------
def test_a_provider_never_synced_builds_empty_staging(tmp_path: Path) -> None:
    warehouse, result = build(tmp_path, {"raw_chatman.contacts": [chatman("only", Phone("US"), "only@x.com")]})
    empty = {m.name for m in result.models if m.empty}
    for provider in PROVIDERS:
        if provider != "chatman":
            assert f"staging.{provider}_contacts" in empty
    columns = rows_of(warehouse, "SELECT table_name, list(column_name ORDER BY column_index) FROM duckdb_columns() "
                                 "WHERE schema_name = 'staging' AND table_name LIKE '%\\_contacts' ESCAPE '\\' GROUP BY 1")
    assert len({tuple(c) for _, c in columns}) == 1, f"staging contacts differ in shape: {columns}"
    assert rows_of(warehouse, "SELECT providers FROM crm.people") == [(["chatman"],)]


def test_events_of_every_provider_reach_the_person(tmp_path: Path) -> None:
    phone = Phone("NG", 31)
    rows: Rows = {
        "raw_chatman.contacts": [chatman("u1", phone, "ada@x.com")],
        "raw_chatman.triggered_events": [{"event_id": "t1", "event_name": "order_placed", "user_id": "u1",
                                          "attributes": '{"amount": 5}', "triggered_at": T0}],
        "raw_chatman.campaign_events": [{"event_id": "c1", "campaign_id": "k", "user_id": "u1", "status": "read",
                                         "occurred_at": T0}],
        "raw_whautomate.contacts": [whautomate("w1", phone.spaced, None)],
        "raw_whautomate.messages": [
            {"id": "m1", "contact_id": "w1", "direction": "outbound", "type": "text", "text": "hi", "status": "read",
             "created_at": T0 + timedelta(days=2)},
            {"id": "m-gone", "contact_id": "w1", "direction": "inbound", "type": "text", "text": "x",
             "status": "received", "created_at": T0, "deleted_at": T0}],
        "raw_dmchamp.contacts": [dmchamp("d1", phone.e164, None, "phone")],
        "raw_dmchamp.messages": [{"id": "dm1", "contact_id": "d1", "direction": "inbound", "channel": "whatsapp",
                                  "text": "yes", "created_at": T0 + timedelta(days=1)}],
        "raw_chatrace.contacts": [chatrace(9, phone.digits)],
        "raw_chatrace.opportunities": [{"id": 100, "pipeline_id": 1, "contact_id": 9, "title": "Deal", "value": 10.5,
                                        "status": "open", "created_at": T0, "updated_at": T0}],
        "raw_chatrace.opportunity_comments": [{"id": 1000, "opportunity_id": 100, "pipeline_id": 1, "text": "called",
                                               "created_at": T0 + timedelta(days=3), "created_by": 5}],
        "raw_chatrace.pipelines": [{"id": 1, "name": "Sales"}],
    }
    warehouse, _ = build(tmp_path, rows)
    providers = sorted(t.split(".")[0].removeprefix("raw_") for t in rows if t.endswith(".contacts"))
    events = {(provider, event_id): (pid, kind, actor) for provider, event_id, pid, kind, actor in rows_of(
        warehouse, "SELECT provider, event_id, person_id, event_type, actor FROM crm.events")}
    (person,) = {pid for pid, _, _ in events.values()}
    assert person is not None
    assert {key: value[1:] for key, value in events.items()} == {
        ("chatman", "t1"): ("order_placed", "person"), ("chatman", "c1"): ("campaign_read", "person"),
        ("whautomate", "m1"): ("message_outbound", "business"), ("dmchamp", "dm1"): ("message_inbound", "person"),
        ("chatrace", "1000"): ("opportunity_comment", "business")}
    people = rows_of(warehouse, "SELECT last_activity_at, last_seen, providers FROM crm.people")
    assert people == [(T0 + timedelta(days=1), T0 + timedelta(days=3), providers)]
    opportunity = rows_of(warehouse, "SELECT person_id, pipeline_name, value, comment_count, last_comment_at "
                                     "FROM crm.opportunities")
    assert opportunity == [(person, "Sales", Decimal("10.50"), 1, T0 + timedelta(days=3))]


def test_order_money_is_in_the_currency_unit(tmp_path: Path) -> None:
    cents = {"USD": (4780, 100), "JPY": (4780, 1), "KWD": (4780, 1000)}
    warehouse, _ = build(tmp_path, {
        "raw_chatrace.contacts": [chatrace(1, Phone("US", 41).digits)],
        "raw_chatrace.orders": [{"order_id": currency, "contact_id": 1, "status": 10, "currency": currency.lower(),
                                 "total": total, "subtotal": total, "coupon_discount": 0, "total_items": 1,
                                 "line_items": "[]", "created_at": T0, "updated_at": T0}
                                for currency, (total, _) in cents.items()],
        "raw_chatrace.order_statuses": ORDER_STATUSES,
    })
    totals = dict(rows_of(warehouse, "SELECT currency, total FROM crm.orders"))
    assert totals == {currency: Decimal(total) / unit for currency, (total, unit) in cents.items()}
    assert set(rows_of(warehouse, "SELECT status_name, status_final FROM crm.orders")) == {("delivered", True)}
    assert rows_of(warehouse, "SELECT count(*) FROM crm.orders WHERE person_id IS NULL") == [(0,)]


@pytest.mark.parametrize("segment", ["high_value_customers", "stalled_opportunities", "inactive_opted_in",
                                     "multi_provider"])
def test_segments_pick_the_person_they_are_about(tmp_path: Path, segment: str) -> None:
    """Each segment on a tiny warehouse: "pat" is in three providers, paid 150, and has an
    open deal that went quiet 10 days before the warehouse's now; "quiet" is opted in and did
    nothing since the start. The clock is the newest event: a message sent to pat."""
    phone, quiet = Phone("NG", 51), Phone("NG", 52)
    as_of = T0 + timedelta(days=100)
    quiet_since = as_of - timedelta(days=10)
    message = {"type": "text", "text": "ok", "status": "read"}
    warehouse, result = build(tmp_path, {
        "raw_chatman.contacts": [chatman("pat", phone, "pat@x.com"), chatman("quiet", quiet, None)],
        "raw_chatman.triggered_events": [{"event_id": "old", "event_name": "form_submitted", "user_id": "quiet",
                                          "attributes": "{}", "triggered_at": T0}],
        "raw_whautomate.contacts": [whautomate("pat-w", phone.spaced, None)],
        "raw_whautomate.messages": [
            {"id": "in", "contact_id": "pat-w", "direction": "inbound", "created_at": quiet_since, **message},
            {"id": "out", "contact_id": "pat-w", "direction": "outbound", "created_at": as_of, **message}],
        "raw_chatrace.contacts": [chatrace(1, phone.digits, subscribed=0)],
        "raw_chatrace.orders": [{"order_id": "o1", "contact_id": 1, "status": 7, "currency": "USD", "total": 15000,
                                 "subtotal": 15000, "coupon_discount": 0, "total_items": 1, "line_items": "[]",
                                 "created_at": T0, "updated_at": T0}],
        "raw_chatrace.order_statuses": ORDER_STATUSES,
        "raw_chatrace.opportunities": [{"id": 5, "pipeline_id": 1, "contact_id": 1, "title": "Deal", "value": 1.0,
                                        "status": "open", "created_at": T0, "updated_at": quiet_since}],
    }, segments=True)
    assert rows_of(warehouse, "SELECT as_of FROM crm.clock") == [(as_of,)]
    expected = {"high_value_customers": "chatman:pat", "multi_provider": "chatman:pat",
                "stalled_opportunities": "chatman:pat", "inactive_opted_in": "chatman:quiet"}
    members = {p for (p,) in rows_of(warehouse, f"SELECT person_id FROM crm.segment_members WHERE segment = '{segment}'")}
    assert members == {persons(warehouse)[expected[segment]]}
    assert result.segments[segment].size == 1
