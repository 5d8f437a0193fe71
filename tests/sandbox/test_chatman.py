"""The Chatman emulator over real HTTP: CONTRACT.md section 1."""

from __future__ import annotations

import re
import time

import httpx
import phonenumbers
import pytest

from crmsync.sandbox.clock import BASE_END_MS, iso_ms, parse_iso_ms
from crmsync.sandbox.credentials import CHATMAN_API_KEY
from crmsync.sandbox.providers.chatman import CAMPAIGN_IDS, Chatman
from crmsync.sandbox.server import SandboxServer
from crmsync.sandbox.world import World

PREFIX = Chatman.prefix
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
AUTH = {"Authorization": f"Bearer {CHATMAN_API_KEY}"}


@pytest.fixture()
def api(sandbox: SandboxServer) -> httpx.Client:
    with httpx.Client(base_url=sandbox.url + PREFIX, headers=AUTH, timeout=30) as client:
        yield client


@pytest.fixture()
def chatman(sandbox: SandboxServer) -> Chatman:
    return sandbox.world.providers["chatman"]


def walk(api: httpx.Client, path: str, **params) -> tuple[list[dict], list[int]]:
    """Every result of a paged listing, and the `count` each page reported."""
    results, counts, after = [], [], None
    while True:
        query = dict(params, **({"after": after} if after else {}))
        response = api.get(path, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"count", "next", "results"}
        assert len(body["results"]) <= int(params.get("limit", 100))
        results += body["results"]
        counts.append(body["count"])
        after = body["next"]
        if after is None:
            return results, counts


def contacts(api: httpx.Client, **params) -> list[dict]:
    return walk(api, "/contacts/", limit=57, **params)[0]


def new_person(chatman: Chatman):
    """A generated person with a valid phone who is not in Chatman."""
    population = chatman.population
    for index in range(population.size):
        if "chatman" not in population.providers_of(index) and not population.is_junk(index):
            return population.person(index)
    raise AssertionError("no person outside Chatman")


def add_body(person, **extra) -> dict:
    body = {
        "phone_number": person.trunk + person.national,
        "country_code": "+" + person.calling_code,
        "system_attributes": {"first_name": "Ada", "email": "ada.new@example.com"},
    }
    body.update(extra)
    return body


# -- auth, errors, routing ------------------------------------------------------------------
def test_auth_errors_and_unknown_paths(sandbox: SandboxServer, http: httpx.Client) -> None:
    missing = http.get(PREFIX + "/contacts/")
    assert missing.status_code == 401
    assert missing.json() == {"detail": "Authentication credentials were not provided."}
    wrong = http.get(PREFIX + "/contacts/", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert wrong.json() == {"detail": "Invalid API key."}
    assert wrong.headers["WWW-Authenticate"] == "Bearer"
    assert http.get(PREFIX + "/contacts/", headers=AUTH).status_code == 200
    unknown = http.get(PREFIX + "/nowhere/", headers=AUTH)
    assert (unknown.status_code, unknown.json()) == (404, {"detail": "Not found."})
    not_allowed = http.put(PREFIX + "/contacts/", headers=AUTH)
    assert (not_allowed.status_code, not_allowed.json()) == (405, {"detail": 'Method "PUT" not allowed.'})


def test_rate_limit_answers_429_with_retry_after(http: httpx.Client, api: httpx.Client) -> None:
    assert http.post("/_sandbox/faults", json={"rate_limit": 1}).status_code == 200
    statuses = [api.get("/segments/") for _ in range(5)]
    limited = [r for r in statuses if r.status_code == 429]
    assert limited, [r.status_code for r in statuses]
    assert int(limited[0].headers["Retry-After"]) >= 1
    assert set(limited[0].json()) == {"detail"}


# -- contacts: listing ----------------------------------------------------------------------
def test_full_listing_is_complete_ordered_and_well_formed(api: httpx.Client, chatman: Chatman) -> None:
    results, counts = walk(api, "/contacts/", limit=37)
    ids = [c["user_id"] for c in results]
    assert len(ids) == len(set(ids)) == chatman.counts()["contacts"] == counts[0]
    assert set(counts) == {len(ids)}
    keys = [(parse_iso_ms(c["created_at"]), c["user_id"]) for c in results]
    assert keys == sorted(keys)
    person_of = {user_id: person for person, user_id in chatman.accounts()}
    assert set(person_of) == set(ids)
    shapes = set()
    for contact in results:
        person = chatman.population.person(person_of[contact["user_id"]])
        assert contact["wa_id"] == person.calling_code + person.national
        number = phonenumbers.parse(contact["phone_number"],
                                    phonenumbers.region_code_for_country_code(int(contact["country_code"])))
        assert f"{number.country_code}{number.national_number}" == contact["wa_id"]
        shapes.add("+" if contact["phone_number"].startswith("+") else contact["phone_number"][0] == "0")
        system = contact["system_attributes"]
        assert set(system) == {"first_name", "last_name", "email", "date_of_birth", "gender", "city",
                               "state", "whatsapp_opted"}
        assert (system["email"] is None) == (person.email is None)
        if person.email:
            assert system["email"].strip().lower() == person.email
        assert system["date_of_birth"] == person.birth_date
        assert isinstance(system["whatsapp_opted"], bool)
        assert isinstance(contact["custom_attributes"], dict) and isinstance(contact["user_tags"], list)
        assert ISO.match(contact["created_at"]) and ISO.match(contact["modified_at"])
        assert contact["modified_at"] >= contact["created_at"]
    assert len(shapes) == 3  # national, trunk + national, spaced international
    assert len({tuple(sorted(c["custom_attributes"])) for c in results}) > 3


def test_default_limit_and_modes_with_half_open_windows(api: httpx.Client) -> None:
    assert len(api.get("/contacts/").json()["results"]) == 100
    everyone = contacts(api)
    for mode, field in (("new", "created_at"), ("modified", "modified_at")):
        stamps = sorted(c[field] for c in everyone)
        start, end = stamps[20], stamps[120]
        window, counts = walk(api, "/contacts/", limit=13, mode=mode, start_time=start, end_time=end)
        expected = sorted(((c[field], c["user_id"]) for c in everyone if start <= c[field] < end))
        assert [(c[field], c["user_id"]) for c in window] == expected
        assert set(counts) == {len(expected)} and len(expected) == 100
    # mode=all ignores the window
    assert len(contacts(api, start_time=stamps[20], end_time=stamps[30])) == len(everyone)


@pytest.mark.parametrize("params", [
    {"limit": 0}, {"limit": 1001}, {"limit": "ten"}, {"mode": "recent"},
    {"mode": "new", "start_time": "yesterday"}, {"mode": "modified", "end_time": "2026-13-01T00:00:00Z"},
    {"after": "not-a-cursor"},
])
def test_bad_list_parameters_answer_400(api: httpx.Client, params: dict) -> None:
    response = api.get("/contacts/", params=params)
    assert response.status_code == 400
    assert set(response.json()) == {"detail"}


def test_cursor_of_one_mode_is_refused_by_another(api: httpx.Client) -> None:
    cursor = api.get("/contacts/", params={"limit": 5}).json()["next"]
    assert api.get("/contacts/", params={"limit": 5, "after": cursor}).status_code == 200
    refused = api.get("/contacts/", params={"limit": 5, "after": cursor, "mode": "new"})
    assert refused.status_code == 400 and refused.json() == {"detail": "Invalid cursor."}


def test_contact_modified_while_paging_moves_to_the_end(api: httpx.Client) -> None:
    first = api.get("/contacts/", params={"mode": "modified", "limit": 50}).json()
    seen = first["results"][10]
    update = {"phone_number": seen["phone_number"], "country_code": seen["country_code"],
              "user_tags": ["moved"]}
    assert api.post("/contacts/update/", json=update).status_code == 200
    rest, _ = walk(api, "/contacts/", mode="modified", limit=50, after=first["next"])
    assert rest[-1]["user_id"] == seen["user_id"] and rest[-1]["user_tags"] == ["moved"]
    assert len(first["results"]) + len(rest) == first["count"] + 1


# -- contacts: lookups and writes -----------------------------------------------------------
def test_details_and_single_contact(api: httpx.Client) -> None:
    some = contacts(api)[:3]
    wanted = [c["wa_id"] for c in some] + ["999000111222"]
    details = api.get("/contacts/details/", params={"wa_ids": ",".join(wanted)})
    assert details.status_code == 200 and details.json() == {"results": some}
    assert api.get(f"/contacts/{some[1]['wa_id']}/").json() == some[1]
    missing = api.get("/contacts/999000111222/")
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not found."})
    too_many = ",".join(str(2348030000000 + i) for i in range(101))
    assert api.get("/contacts/details/", params={"wa_ids": too_many}).status_code == 400
    assert api.get("/contacts/details/").status_code == 400


def test_add_contact_is_visible_everywhere(api: httpx.Client, chatman: Chatman) -> None:
    person = new_person(chatman)
    before = chatman.counts()["contacts"]
    started = time.time() * 1000
    body = add_body(person, user_tags=["import"], custom_attributes={"source": "api"},
                    external_customer_id="crm-42")
    response = api.post("/contacts/", json=body)
    assert response.status_code == 201, response.text
    contact = response.json()
    assert contact["wa_id"] == person.calling_code + person.national
    assert contact["phone_number"] == body["phone_number"] and contact["user_tags"] == ["import"]
    assert contact["system_attributes"]["first_name"] == "Ada"
    assert contact["system_attributes"]["whatsapp_opted"] is False
    assert parse_iso_ms(contact["created_at"]) >= started - 1000
    assert api.get(f"/contacts/{contact['wa_id']}/").json() == contact
    assert contacts(api)[-1] == contact
    assert contacts(api, mode="new", start_time=contact["created_at"]) == [contact]
    assert (person.index, contact["user_id"]) in set(chatman.accounts())
    assert chatman.counts()["contacts"] == before + 1
    again = api.post("/contacts/", json=body)
    assert again.status_code == 409 and set(again.json()) == {"detail"}


@pytest.mark.parametrize("change", [
    {"system_attributes": {"email": "ada@example.com"}},
    {"system_attributes": {"first_name": "Ada"}},
    {"system_attributes": {"first_name": "Ada", "email": "not-an-email"}},
    {"system_attributes": {"first_name": "Ada", "email": "a@b.co", "nickname": "x"}},
    {"system_attributes": {"first_name": "Ada", "email": "a@b.co", "date_of_birth": "1990-02-30"}},
    {"phone_number": None},
    {"country_code": "Nigeria"},
    {"user_tags": "vip"},
])
def test_add_contact_validates_the_body(api: httpx.Client, chatman: Chatman, change: dict) -> None:
    body = add_body(new_person(chatman))
    body.update(change)
    response = api.post("/contacts/", json=body)
    assert response.status_code == 400, response.text
    assert set(response.json()) == {"detail"}


def test_update_contact_merges_and_bumps_modified_at(api: httpx.Client) -> None:
    contact = contacts(api)[5]
    person_phone = contact["wa_id"][len(contact["country_code"]) - 1:]
    started = time.time() * 1000
    response = api.post("/contacts/update/", json={
        "phone_number": person_phone, "country_code": contact["country_code"],
        "system_attributes": {"city": "Kano"}, "custom_attributes": {"tier": "gold"},
    })
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["user_id"] == contact["user_id"]
    assert updated["system_attributes"] == {**contact["system_attributes"], "city": "Kano"}
    assert updated["custom_attributes"] == {**contact["custom_attributes"], "tier": "gold"}
    assert parse_iso_ms(updated["modified_at"]) >= started - 1000
    assert updated["modified_at"] > contact["modified_at"]
    assert contacts(api, mode="modified")[-1] == updated
    assert api.get(f"/contacts/{contact['wa_id']}/").json() == updated
    unknown = api.post("/contacts/update/", json={"phone_number": "8000000000", "country_code": "+1"})
    assert unknown.status_code == 404


def test_check_contact(api: httpx.Client, chatman: Chatman) -> None:
    person = new_person(chatman)
    spaced = api.post("/contacts/check/", json={"phone_number": person.trunk + person.national,
                                                "country_code": person.calling_code})
    assert spaced.json() == {"wa_id": person.calling_code + person.national, "valid": True}
    bad = api.post("/contacts/check/", json={"phone_number": "12345", "country_code": "+234"}).json()
    assert bad["valid"] is False and bad["wa_id"].isdigit()
    assert api.post("/contacts/check/", json={"phone_number": "12345"}).status_code == 400


# -- segments -------------------------------------------------------------------------------
def test_segments_listing_filters_and_members(api: httpx.Client, chatman: Chatman) -> None:
    segments, counts = walk(api, "/segments/", limit=1)
    memberships = chatman.memberships()
    assert [s["segment_name"] for s in segments] == list(memberships) and counts[0] == len(segments)
    assert chatman.counts()["segments"] == len(segments)
    live_ids = {c["user_id"] for c in contacts(api)}
    for segment in segments:
        assert ISO.match(segment["created_at"]) and segment["segment_type"] in ("live", "static")
        evaluated = api.post(f"/segments/{segment['segment_id']}/evaluate/").json()
        assert evaluated == {"segment_id": segment["segment_id"],
                             "user_ids": memberships[segment["segment_name"]]}
        assert segment["user_count"] == len(evaluated["user_ids"]) > 0
        assert set(evaluated["user_ids"]) <= live_ids
    static, _ = walk(api, "/segments/", segment_type="static")
    assert static == [s for s in segments if s["segment_type"] == "static"] and static
    found, _ = walk(api, "/segments/", search_key="NEWS")
    assert [s["segment_name"] for s in found] == [s["segment_name"] for s in segments
                                                  if "news" in s["segment_name"].lower()] != []
    assert api.get("/segments/", params={"segment_type": "dynamic"}).status_code == 400


def test_create_segment_resolves_every_kind_of_user(api: httpx.Client, chatman: Chatman) -> None:
    people = contacts(api)
    with_email = [c for c in people if c["system_attributes"]["email"]][:2]
    with_external = [c for c in people if c["external_customer_id"]][5:7]
    users = ([{"user_id": people[0]["user_id"]}, {"wa_id": people[1]["wa_id"]}]
             + [{"email": c["system_attributes"]["email"].strip().upper()} for c in with_email]
             + [{"external_customer_id": c["external_customer_id"]} for c in with_external]
             + [{"wa_id": "15550000000"}])
    response = api.post("/segments/", json={"segment_name": "Pushed", "users": users})
    assert response.status_code == 201, response.text
    segment = response.json()
    expected = {people[0]["user_id"], people[1]["user_id"]} | {c["user_id"] for c in with_email + with_external}
    assert segment["segment_type"] == "live" and segment["user_count"] == len(expected)
    assert set(chatman.memberships()["Pushed"]) == expected
    assert api.get("/segments/", params={"search_key": "push"}).json()["results"] == [segment]
    duplicate = api.post("/segments/", json={"segment_name": "Pushed", "users": []})
    assert duplicate.status_code == 400
    assert api.post("/segments/", json={"segment_name": "Bad", "users": ["x"]}).status_code == 400


def test_subscribe_and_unsubscribe(api: httpx.Client, chatman: Chatman) -> None:
    segment = api.get("/segments/", params={"search_key": "VIP"}).json()["results"][0]
    path = f"/segments/{segment['segment_id']}"
    members = chatman.memberships()[segment["segment_name"]]
    outsiders = [c["user_id"] for c in contacts(api) if c["user_id"] not in members][:3]
    batch = outsiders + members[:1]
    assert api.post(path + "/subscribe/", json={"user_ids": batch}).json() == {"subscribed": 3}
    assert api.post(path + "/subscribe/", json={"user_ids": batch}).json() == {"subscribed": 0}
    assert set(chatman.memberships()[segment["segment_name"]]) == set(members) | set(outsiders)
    unknown = api.post(path + "/unsubscribe/", json={"user_ids": outsiders[:1] + ["nobody"]})
    assert unknown.status_code == 400 and unknown.json() == {"detail": "Unknown user_id(s): nobody"}
    assert api.post(path + "/evaluate/").json()["user_ids"].count(outsiders[0]) == 1
    assert api.post(path + "/unsubscribe/", json={"user_ids": outsiders}).json() == {"unsubscribed": 3}
    assert chatman.memberships()[segment["segment_name"]] == members
    too_many = api.post(path + "/subscribe/", json={"user_ids": outsiders * 334})
    assert too_many.status_code == 400
    gone = api.post("/segments/00000000-0000-4000-8000-000000000000/subscribe/", json={"user_ids": []})
    assert (gone.status_code, gone.json()) == (404, {"detail": "Not found."})


# -- events ---------------------------------------------------------------------------------
def test_triggered_events_listing(api: httpx.Client, chatman: Chatman) -> None:
    events, counts = walk(api, "/events/custom/triggered/", limit=97)
    assert len(events) == len({e["event_id"] for e in events}) == counts[0] == chatman.counts()["triggered_events"]
    keys = [(parse_iso_ms(e["triggered_at"]), e["event_id"]) for e in events]
    assert keys == sorted(keys)
    created = {c["user_id"]: c["created_at"] for c in contacts(api)}
    types = {t["event_name"]: t["attributes"] for t in walk(api, "/events/custom/")[0]}
    assert {e["event_name"] for e in events} == set(types)
    for event in events:
        assert created[event["user_id"]] <= event["triggered_at"]
        assert set(event["attributes"]) == set(types[event["event_name"]])
        assert ISO.match(event["triggered_at"])
    start, end = events[50]["triggered_at"], events[150]["triggered_at"]
    window, counts = walk(api, "/events/custom/triggered/", start_time=start, end_time=end, limit=30)
    assert window == events[50:150] and counts[0] == 100
    assert api.get(f"/events/custom/triggered/{events[7]['event_id']}/").json() == events[7]
    assert api.get(f"/events/custom/triggered/{events[7]['user_id']}/").status_code == 404


def test_event_types_and_trigger(api: httpx.Client, chatman: Chatman) -> None:
    contact = contacts(api)[3]
    new_type = {"event_name": "quote_requested", "attributes": {"amount": "float", "when": "datetime"}}
    created = api.post("/events/custom/", json=new_type)
    assert created.status_code == 201 and created.json()["attributes"] == new_type["attributes"]
    assert ISO.match(created.json()["created_at"])
    assert walk(api, "/events/custom/", limit=2)[0][-1] == created.json()
    assert api.post("/events/custom/", json=new_type).status_code == 400
    assert api.post("/events/custom/", json={"event_name": "x", "attributes": {"a": "money"}}).status_code == 400
    before = chatman.counts()["triggered_events"]
    body = {"event_name": "quote_requested", "wa_id": contact["wa_id"],
            "attributes": {"amount": 12.5, "when": "2026-07-01T10:00:00.000Z"}}
    response = api.post("/events/custom/trigger/", json=body)
    assert response.status_code == 201, response.text
    event = response.json()
    assert event["user_id"] == contact["user_id"] and event["attributes"] == body["attributes"]
    assert walk(api, "/events/custom/triggered/", limit=1000)[0][-1] == event
    assert walk(api, f"/events/users/{contact['user_id']}/")[0][-1] == event
    assert chatman.counts()["triggered_events"] == before + 1
    for bad in ({**body, "event_name": "nope"}, {**body, "attributes": {"amount": "12"}},
                {**body, "attributes": {"colour": "red"}}, {**body, "wa_id": "15550000000"}):
        refused = api.post("/events/custom/trigger/", json=bad)
        assert refused.status_code == 400 and set(refused.json()) == {"detail"}


def test_user_events_are_that_users_triggered_events(api: httpx.Client) -> None:
    events, _ = walk(api, "/events/custom/triggered/", limit=1000)
    user_id = events[len(events) // 2]["user_id"]
    mine, counts = walk(api, f"/events/users/{user_id}/", limit=1)
    assert mine == [e for e in events if e["user_id"] == user_id] and counts[0] == len(mine)
    assert api.get("/events/users/not-a-user/").status_code == 404


def test_campaign_events(api: httpx.Client, chatman: Chatman) -> None:
    total = 0
    live = {c["user_id"] for c in contacts(api)}
    for campaign_id in CAMPAIGN_IDS:
        events, counts = walk(api, f"/events/campaigns/{campaign_id}/", limit=41)
        assert events and counts[0] == len(events) == len({e["event_id"] for e in events})
        stamps = [parse_iso_ms(e["occurred_at"]) for e in events]
        assert stamps == sorted(stamps)
        first_status = {}
        for event in events:
            assert event["campaign_id"] == campaign_id and event["user_id"] in live
            assert event["status"] in ("sent", "delivered", "read", "failed", "clicked")
            assert ISO.match(event["occurred_at"])
            first_status.setdefault(event["user_id"], event["status"])
        assert set(first_status.values()) == {"sent"}
        total += len(events)
    assert chatman.counts()["campaign_events"] == total
    missing = api.get("/events/campaigns/00000000-0000-4000-8000-000000000000/")
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not found."})


# -- journeys -------------------------------------------------------------------------------
def test_journeys_users_and_delete(api: httpx.Client, chatman: Chatman) -> None:
    journeys, counts = walk(api, "/journeys/", limit=2)
    assert len(journeys) == counts[0] == chatman.counts()["journeys"] >= 2
    live = {c["user_id"]: c["wa_id"] for c in contacts(api)}
    journey = journeys[0]
    users, counts = walk(api, f"/{journey['journey_id']}/users/", limit=7)
    assert len(users) == len({u["user_id"] for u in users}) == counts[0] == journey["user_count"] > 0
    for user in users:
        assert live[user["user_id"]] == user["wa_id"] and ISO.match(user["entered_at"])
    name = journeys[1]["journey_name"]
    assert api.get("/journeys/", params={"search_key": name[:5].upper()}).json()["results"] == [journeys[1]]
    assert api.delete(f"/delete-journey/{journey['journey_id']}").status_code == 204
    assert api.get(f"/{journey['journey_id']}/users/").status_code == 404
    assert api.delete(f"/delete-journey/{journey['journey_id']}").status_code == 404
    assert walk(api, "/journeys/")[0] == journeys[1:]
    assert chatman.counts()["journeys"] == len(journeys) - 1


# -- admin: truth and churn -----------------------------------------------------------------
def test_truth_agrees_with_the_api(http: httpx.Client, api: httpx.Client) -> None:
    truth = http.get("/_sandbox/truth").json()
    listed = {c["user_id"] for c in contacts(api)}
    accounts = {p["accounts"]["chatman"] for p in truth["people"] if "chatman" in p["accounts"]}
    assert accounts == listed
    assert truth["counts"]["chatman"]["contacts"] == len(listed)
    segments = walk(api, "/segments/")[0]
    assert set(truth["memberships"]["chatman"]) == {s["segment_name"] for s in segments}


def test_churn_changes_exactly_what_it_reports(http: httpx.Client, api: httpx.Client, chatman: Chatman) -> None:
    before = {c["user_id"]: c for c in contacts(api)}
    events_before = {e["event_id"] for e in walk(api, "/events/custom/triggered/", limit=1000)[0]}
    members_before = chatman.memberships()
    started = time.time() * 1000
    answer = http.post("/_sandbox/churn", json={"update": 0.05, "create": 0.04, "delete": 0.1, "seed": 5})
    report = answer.json()["chatman"]
    after = {c["user_id"]: c for c in contacts(api)}
    assert set(report["contacts"]["created"]) == set(after) - set(before) != set()
    assert set(report["contacts"]["deleted"]) == set(before) - set(after) != set()
    changed = {u for u in set(before) & set(after) if after[u] != before[u]}
    assert set(report["contacts"]["updated"]) == changed != set()
    for user_id in changed | set(report["contacts"]["created"]):
        assert parse_iso_ms(after[user_id]["modified_at"]) >= started - 1000
    modified = contacts(api, mode="modified", start_time=min(after[u]["modified_at"] for u in changed))
    assert {c["user_id"] for c in modified} == changed | set(report["contacts"]["created"])
    deleted = set(report["contacts"]["deleted"])
    assert {u for ids in members_before.values() for u in ids} & deleted
    assert chatman.memberships() == {name: [u for u in ids if u not in deleted]
                                     for name, ids in members_before.items()}
    events_after = {e["event_id"] for e in walk(api, "/events/custom/triggered/", limit=1000)[0]}
    assert events_after - events_before == set(report["triggered_events"]["created"]) != set()
    assert chatman.counts()["contacts"] == len(after)
    people = {p for p, _ in chatman.accounts()}
    assert len(people) == len(after)


# -- determinism ----------------------------------------------------------------------------
def first_pages(seed: int) -> list[dict]:
    with SandboxServer(World(seed=seed, contacts=300)) as server, \
            httpx.Client(base_url=server.url + PREFIX, headers=AUTH) as api:
        paths = ["/contacts/", "/events/custom/triggered/", "/segments/", "/journeys/",
                 f"/events/campaigns/{CAMPAIGN_IDS[0]}/"]
        return [api.get(path, params={"limit": 50}).json() for path in paths]


def test_same_seed_same_pages_other_seed_differs() -> None:
    first = first_pages(11)
    assert first_pages(11) == first
    other = first_pages(12)
    for mine, theirs in zip(first, other):
        assert mine["results"] != theirs["results"]


def test_imported_contact_keeps_its_modified_at(api: httpx.Client, chatman: Chatman, sandbox: SandboxServer) -> None:
    """The admin import (an app import keeping its own modified_at, which the contract leaves
    open for a new contact): new by created_at, old by modified_at."""
    modified_at = iso_ms(BASE_END_MS + 86_400_000)
    response = httpx.post(f"{sandbox.url}/_sandbox/chatman/contacts/import/", headers=AUTH, timeout=10,
                          json={**add_body(new_person(chatman)), "modified_at": modified_at})
    assert response.status_code == 201, response.text
    contact = response.json()
    assert contact["modified_at"] == modified_at and contact["created_at"] > modified_at
    assert contacts(api, mode="new", start_time=contact["created_at"]) == [contact]
    assert contacts(api, mode="modified", start_time=iso_ms(BASE_END_MS + 86_400_001)) == []
    assert contacts(api, mode="modified", start_time=modified_at) == [contact]
    early = httpx.post(f"{sandbox.url}/_sandbox/chatman/contacts/import/", headers=AUTH, timeout=10,
                       json={**add_body(new_person(chatman)), "modified_at": iso_ms(BASE_END_MS - 1)})
    assert early.status_code == 400, early.text
