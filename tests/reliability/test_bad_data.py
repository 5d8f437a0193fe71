"""Provider data a CRM really holds — junk phones and emails, blank names, every script and
emoji, 100,000-character values, nulls — put into the sandbox through the providers' own
write APIs, then synced and modelled: every record is loaded exactly as sent (counts equal
the sandbox's truth), what is a problem is flagged (a junk phone has no E.164 in the model,
a junk email that DM Champ refuses is counted in the run's problems), nothing is dropped
silently, nothing crashes, and the model's data tests pass."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import httpx
import phonenumbers
import pytest

from crmsync.sandbox.link import sandbox_environment
from crmsync.pipelines.sync import sync
from crmsync.sandbox.server import SandboxServer
from crmsync.sandbox.world import World
from tests.reliability.bad_input_fixtures import point_at
from tests.reliability.conftest import waabot_api
from crmsync.transforms.runner import run_transforms

LONG = 100_000


def e164(region: str) -> str:
    """A valid number of a region the sandbox's population never uses."""
    return phonenumbers.format_number(phonenumbers.example_number(region), phonenumbers.PhoneNumberFormat.E164)


def provider_api(sandbox: SandboxServer, provider: str) -> httpx.Client:
    env = sandbox_environment(sandbox.url)
    section = f"SOURCES__{provider.upper()}__"
    headers = {"chatman": {"Authorization": f"Bearer {env.get(section + 'API_KEY')}"},
               "whautomate": {"x-api-key": env.get(section + "API_KEY", "")}}[provider]
    return httpx.Client(base_url=env[section + "BASE_URL"], headers=headers, timeout=30)


def create_odd_records(sandbox: SandboxServer) -> dict[str, dict[str, dict]]:
    """provider -> contact id -> the record as the provider answered its creation (system
    attributes spread), for records no sane form would produce."""
    made: dict[str, dict[str, dict]] = {"chatman": {}, "whautomate": {}, "waabot": {}}
    with provider_api(sandbox, "chatman") as chatman:
        for body in (
            {"phone_number": "call 12345 now", "country_code": "+234",
             "system_attributes": {"first_name": "   ", "email": "  Junk.MIXED@Example.COM "}},
            {"phone_number": e164("NZ"), "country_code": "+64",
             "system_attributes": {"first_name": "Zoë 李小龍 🎉", "last_name": "Ω" * LONG, "email": "z@example.org",
                                   "city": None},
             "custom_attributes": {"note": "x" * LONG, "nothing": None, "nested": {"a": [1, None]}},
             "user_tags": ["🎉 party", "Ünïcödé"]},
        ):
            answer = chatman.post("/contacts/", json=body)
            assert answer.status_code == 201, answer.text
            record = answer.json()
            made["chatman"][record["user_id"]] = {**record, **record["system_attributes"]}
    with provider_api(sandbox, "whautomate") as whautomate:
        for body in (
            {"name": "李" * LONG, "phoneNumber": e164("IS"), "email": "junk@nowhere", "notes": "n" * LONG,
             "customFields": {"empty": None, "emoji": "🙂"}},
            {"name": "Ünïcödé  Ñame", "phoneNumber": e164("FI"), "email": "  UPPER@EXAMPLE.COM  "},
        ):
            answer = whautomate.post("/contacts", json=body)
            assert answer.status_code == 200, answer.text
            made["whautomate"][answer.json()["id"]] = answer.json()
    made["waabot"] = create_odd_waabot_records(sandbox)
    return made


def create_odd_waabot_records(sandbox: SandboxServer) -> dict[str, dict]:
    """Waabot's number is free text: junk, a number with words around it, and odd names."""
    made = {}
    with waabot_api(sandbox) as (waabot, instance):
        group = waabot.get("/contact_groups", params=instance).json()["data"][0]["_id"]
        for body in ({"name": "🙂", "number": "status"},
                     {"name": "N" * LONG, "number": "+234 (0) 803-000-0000 ext. 5"},
                     {"name": "  Ünïcödé  ", "number": "{{1}}"}):
            answer = waabot.post("/contact", json={**body, "group_id": group, **instance})
            assert answer.status_code == 201, answer.text
            made[answer.json()["data"]["_id"]] = answer.json()["data"]
    return made


def digits(text: str) -> int:
    return len(re.sub(r"\D", "", text))


def test_odd_waabot_records_are_loaded_as_sent_and_junk_joins_nobody(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast share of the test below: one provider, its free-text numbers."""
    with SandboxServer(World(seed=3, contacts=30)) as sandbox:
        point_at(monkeypatch, sandbox, tmp_path / "pipelines")
        made = create_odd_waabot_records(sandbox)
        warehouse = tmp_path / "w.duckdb"
        result = sync(["waabot"], warehouse)["waabot"]
        truth = httpx.get(f"{sandbox.url}/_sandbox/truth", timeout=60).json()
    assert result.status == "ok", result.error
    (live,), = raw(warehouse, "SELECT count(*) FROM raw_waabot.contacts WHERE deleted_at IS NULL")
    assert live == truth["counts"]["waabot"]["contacts"]
    for contact_id, held in made.items():
        assert raw(warehouse, "SELECT name, number FROM raw_waabot.contacts WHERE id = ?", [contact_id]) == \
            [(held["name"], held["number"])]
    built = run_transforms(warehouse)
    assert built.status == "ok", built.error
    for contact_id, held in made.items():
        (phone, person), = raw(warehouse, "SELECT phone_e164, person_id FROM crm.contacts WHERE contact_id = ?",
                               [contact_id])
        assert person is not None and (phone is None) == (digits(held["number"]) < 8), held["number"]
        if phone is None:  # a junk phone joins nobody: the record is a person of its own
            (members,), = raw(warehouse, "SELECT count(*) FROM crm.contacts WHERE person_id = ?", [person])
            assert members == 1


def raw(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.mark.slow  # a sync of all five providers and a transform: ~20 s
def test_odd_records_are_loaded_flagged_and_modelled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with SandboxServer(World(seed=3, contacts=60)) as sandbox:
        point_at(monkeypatch, sandbox, tmp_path / "pipelines")
        made = create_odd_records(sandbox)
        warehouse = tmp_path / "w.duckdb"
        results = sync(None, warehouse)
        truth = httpx.get(f"{sandbox.url}/_sandbox/truth", timeout=60).json()

    assert {p: r.status for p, r in results.items()} == dict.fromkeys(results, "ok"), \
        {p: r.error for p, r in results.items()}
    # Loaded, all of them: nothing was dropped on the way in.
    for provider in made:
        (live,), = raw(warehouse, f"SELECT count(*) FROM raw_{provider}.contacts WHERE deleted_at IS NULL")
        assert live == truth["counts"][provider]["contacts"], provider
        assert "contacts: missing, record not loaded" not in results[provider].problems.get("contacts", {})
    # Loaded exactly as the provider holds it: 100,000 characters, every script, emoji, junk.
    key = {"chatman": "user_id", "whautomate": "id", "waabot": "id"}
    sent_text = {"chatman": ("phone_number", "first_name", "last_name"), "whautomate": ("name", "email", "notes"),
                 "waabot": ("name", "number")}
    for provider, records in made.items():
        for contact_id, held in records.items():
            columns = ", ".join(sent_text[provider])
            row = raw(warehouse, f"SELECT {columns} FROM raw_{provider}.contacts WHERE {key[provider]} = ?",
                      [contact_id])
            assert len(row) == 1, (provider, contact_id)
            assert row[0] == tuple(held[c] for c in sent_text[provider]), (provider, contact_id)
    for contact_id, held in made["chatman"].items():
        (attributes,), = raw(warehouse, "SELECT custom_attributes FROM raw_chatman.contacts WHERE user_id = ?",
                             [contact_id])
        assert json.loads(attributes) == held["custom_attributes"]
    assert {len(held["last_name"] or "") for held in made["chatman"].values()} == {0, LONG}
    # Flagged: DM Champ refused the junk email when it was asked about that person.
    refused = {k: n for k, n in results["dmchamp"].problems.get("lookups", {}).items() if "invalid" in k}
    assert refused, results["dmchamp"].problems

    # Modelled: the build and its data tests pass; every odd record is a contact of the model;
    # a junk phone keeps its raw text and has no E.164 (it joins nobody), a blank name is no
    # name, an email is trimmed and lower-cased.
    built = run_transforms(warehouse)
    assert built.status == "ok", built.error
    assert all(t.status == "pass" for t in built.tests)
    for provider, records in made.items():
        for contact_id in records:
            (found,), = raw(warehouse, "SELECT count(*) FROM crm.contacts WHERE provider = ? AND contact_id = ? "
                                       "AND person_id IS NOT NULL", [provider, contact_id])
            assert found == 1, (provider, contact_id)
    junk = raw(warehouse, "SELECT phone_raw, phone_e164 FROM crm.contacts WHERE phone_raw IN (?, ?, ?)",
               ["status", "{{1}}", "call 12345 now"])
    assert sorted(junk) == [("call 12345 now", None), ("status", None), ("{{1}}", None)]
    blank = next(c for c, held in made["chatman"].items() if held["first_name"].isspace())
    assert raw(warehouse, "SELECT first_name, full_name, email FROM crm.contacts WHERE contact_id = ?",
               [blank]) == [(None, None, "junk.mixed@example.com")]
    # The sandbox's truth has no person for a record whose number has under 8 digits; the model
    # keeps each such record as a person of its own.
    junk_only = sum(digits(held["number"]) < 8 for held in made["waabot"].values())
    (people,), = raw(warehouse, "SELECT count(*) FROM crm.people")
    assert people == len(truth["people"]) + junk_only
