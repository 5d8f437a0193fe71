"""The Whautomate emulator against CONTRACT.md section 3, over real HTTP."""

from __future__ import annotations

import re
from typing import Any

import httpx

from crmsync.sandbox.clock import BASE_END_MS, now_ms, parse_iso_ms
from crmsync.sandbox.credentials import WHAUTOMATE_API_KEY
from crmsync.sandbox.server import SandboxServer
from crmsync.sandbox.world import World
from tests.conftest import PEOPLE, SEED

BASE = "/whautomate/v1"
KEY = {"x-api-key": WHAUTOMATE_API_KEY}
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
HEX24 = re.compile(r"^[0-9a-f]{24}$")
CONTACT_KEYS = {"id", "name", "phoneNumber", "email", "stage", "channel", "tags", "customFields",
                "notes", "location", "createdAt", "updatedAt", "lastActivity"}
CLIENT_KEYS = {"id", "fullName", "phoneNumber", "email", "tags", "primaryLocation", "createdAt",
               "updatedAt"}
NEW_PHONE = "+2348169990001"  # a valid Nigerian mobile that no generated person has


def get(http: httpx.Client, path: str, **params: Any) -> httpx.Response:
    return http.get(BASE + path, params=params, headers=KEY)


def post(http: httpx.Client, path: str, body: Any) -> httpx.Response:
    return http.post(BASE + path, json=body, headers=KEY)


def walk(http: httpx.Client, path: str, limit: int = 100, **params: Any) -> list[dict]:
    """Every page until the empty one."""
    records, page = [], 1
    while True:
        response = get(http, path, limit=limit, page=page, **params)
        assert response.status_code == 200, response.text
        batch = response.json()
        assert isinstance(batch, list) and len(batch) <= limit
        if not batch:
            return records
        records += batch
        page += 1


def truth(http: httpx.Client) -> dict:
    return http.get("/_sandbox/truth").json()


def some_contact(http: httpx.Client) -> dict:
    return get(http, "/contacts", limit=1).json()[0]


# -- auth and errors ------------------------------------------------------------------------
ROUTES = [
    ("GET", "/contacts"), ("POST", "/contacts"), ("GET", "/contacts/{id}"),
    ("PUT", "/contacts/{id}"), ("DELETE", "/contacts/{id}"), ("POST", "/contacts/{id}/tags/add"),
    ("POST", "/contacts/{id}/tags/remove"), ("GET", "/contactTags"), ("POST", "/contactTags"),
    ("GET", "/contactTags/{id}"), ("GET", "/clients"), ("GET", "/clients/{id}"),
    ("POST", "/clients/{id}/tags/add"), ("POST", "/clients/{id}/tags/remove"),
    ("GET", "/segments"), ("POST", "/segments"), ("GET", "/segments/{id}"),
    ("DELETE", "/segments/{id}"), ("GET", "/messages/{id}"),
]


def test_every_route_needs_the_api_key(http: httpx.Client) -> None:
    for method, path in ROUTES:
        url = BASE + path.format(id="0" * 24)
        for headers in ({}, {"x-api-key": "wrong"}, {"Authorization": WHAUTOMATE_API_KEY}):
            response = http.request(method, url, headers=headers, json={})
            assert response.status_code == 403, (method, path)
            assert response.json() == {"message": "Forbidden"}
        assert http.request(method, url, headers=KEY, json={}).status_code != 403, (method, path)


def test_bad_paging_parameters(http: httpx.Client) -> None:
    for path in ("/contacts", "/contactTags", "/clients", "/segments"):
        for params in ({"limit": 0}, {"limit": 101}, {"limit": "ten"}, {"page": 0}, {"page": "x"},
                       {"limit": ""}, {"page": -1}):
            response = get(http, path, **params)
            assert response.status_code == 400, (path, params)
            assert response.json() == {"error": "Invalid parameters"}
        assert get(http, path, limit=100, page=1000).json() == []


def test_unknown_ids_are_not_found(http: httpx.Client) -> None:
    for path in ("/contacts/{id}", "/contactTags/{id}", "/clients/{id}", "/segments/{id}",
                 "/messages/{id}"):
        for unknown in ("0" * 24, "nonsense", "f" * 24):
            response = get(http, path.format(id=unknown))
            assert response.status_code == 404, (path, unknown)
            assert response.json() == {"message": "Not found"}


def test_ids_of_one_resource_are_not_found_in_another(http: httpx.Client) -> None:
    contact_id = some_contact(http)["id"]
    assert get(http, f"/clients/{contact_id}").status_code == 404
    assert get(http, f"/segments/{contact_id}").status_code == 404


def test_rate_limit_answers_429_with_retry_after(http: httpx.Client) -> None:
    http.post("/_sandbox/faults", json={"rate_limit": 1})
    responses = [get(http, "/contacts") for _ in range(5)]
    limited = [r for r in responses if r.status_code == 429]
    assert limited
    assert limited[0].json() == {"message": "Too Many Requests"}
    assert int(limited[0].headers["Retry-After"]) >= 1
    http.post("/_sandbox/faults", json={"rate_limit": None})
    assert get(http, "/contacts").status_code == 200


# -- contacts -------------------------------------------------------------------------------
def test_contact_listing_walks_every_contact_once_newest_first(http: httpx.Client) -> None:
    contacts = walk(http, "/contacts", limit=7)
    ids = [c["id"] for c in contacts]
    assert len(ids) == len(set(ids))
    created = [parse_iso_ms(c["createdAt"]) for c in contacts]
    assert created == sorted(created, reverse=True)
    facts = truth(http)
    assert len(ids) == facts["counts"]["whautomate"]["contacts"]
    accounts = {p["accounts"]["whautomate"] for p in facts["people"] if "whautomate" in p["accounts"]}
    assert set(ids) == accounts
    assert walk(http, "/contacts", limit=100) == contacts


def test_default_page_size_is_20(http: httpx.Client) -> None:
    first = get(http, "/contacts").json()
    assert len(first) == 20
    assert first == get(http, "/contacts", limit=20, page=1).json()


def test_contact_shape_and_timestamps(http: httpx.Client) -> None:
    now = now_ms()
    locations = set()
    for contact in walk(http, "/contacts"):
        assert set(contact) == CONTACT_KEYS
        assert HEX24.match(contact["id"])
        for field in ("createdAt", "updatedAt", "lastActivity"):
            assert ISO.match(contact[field]), contact[field]
        created, updated = parse_iso_ms(contact["createdAt"]), parse_iso_ms(contact["updatedAt"])
        assert created <= updated < BASE_END_MS
        assert created <= parse_iso_ms(contact["lastActivity"]) <= now
        assert contact["stage"] in ("Subscriber", "Lead", "Customer", "Inactive")
        assert isinstance(contact["tags"], list) and isinstance(contact["customFields"], dict)
        locations.add(contact["location"]["id"])
    assert len(locations) > 1


def test_phones_lead_to_the_truth_person_or_are_junk(sandbox: SandboxServer, http: httpx.Client) -> None:
    population = sandbox.world.population
    person_of = {p["accounts"]["whautomate"]: p["person"] for p in truth(http)["people"]
                 if "whautomate" in p["accounts"]}
    shapes, junk = set(), 0
    for contact in walk(http, "/contacts"):
        person = population.person(person_of[contact["id"]])
        if person.junk_phone is not None:
            assert contact["phoneNumber"] == person.junk_phone and contact["email"] is None
            junk += 1
            continue
        digits = re.sub(r"\D", "", contact["phoneNumber"])
        assert population.person_from_phone(digits) == person.index
        if contact["email"] is not None:
            assert contact["email"].strip().lower() == person.email
        shapes.add(re.sub(r"\d", "9", contact["phoneNumber"])[:4])
    members = population.members("whautomate")
    assert junk == sum(population.is_junk(int(p)) for p in members) and len(shapes) > 2


def test_junk_people_keep_their_junk_phone() -> None:
    world = World(seed=SEED, contacts=3000)
    state = world.providers["whautomate"].state
    junk = [k for k, p in enumerate(state.members) if world.population.is_junk(int(p))]
    assert junk
    for k in junk:
        person = world.population.person(int(state.members[k]))
        assert state.contacts.get(k)["phoneNumber"] == person.junk_phone


def test_contact_filters_agree_with_the_full_listing(http: httpx.Client) -> None:
    everyone = walk(http, "/contacts")
    tagged = next(c for c in everyone if c["tags"])
    tag = tagged["tags"][0]
    other = next(t for c in everyone for t in c["tags"] if t != tag)
    expected = [c for c in everyone if tag in c["tags"] or other in c["tags"]]
    assert walk(http, "/contacts", limit=3, tags=f"{tag.upper()},{other}") == expected
    location = everyone[-1]["location"]["id"]
    assert walk(http, "/contacts", locationId=location) == [
        c for c in everyone if c["location"]["id"] == location]
    no_time_filter = {"updatedAt": "2030-01-01T00:00:00.000Z", "startDate": "2030-01-01"}
    assert walk(http, "/contacts", **no_time_filter) == everyone
    assert walk(http, "/contacts", channel="whatsapp") == [
        c for c in everyone if c["channel"] == "whatsapp"]
    surname = tagged["name"].split()[-1].lower()
    assert walk(http, "/contacts", searchText=surname.upper()) == [
        c for c in everyone if surname in c["name"].lower() or surname in (c["email"] or "").lower()]
    phone = next(c for c in everyone if re.search(r"\D", c["phoneNumber"].lstrip("+")) is None)
    digits = phone["phoneNumber"].lstrip("+")[-9:]
    found = walk(http, "/contacts", searchText=digits)
    assert phone in found and all(digits in re.sub(r"\D", "", c["phoneNumber"]) for c in found)


def test_one_contact_by_id(http: httpx.Client) -> None:
    contact = get(http, "/contacts", limit=5, page=3).json()[2]
    assert get(http, f"/contacts/{contact['id']}").json() == contact


def test_create_contact(http: httpx.Client) -> None:
    before = truth(http)
    body = {"name": "Ada Obi", "phoneNumber": NEW_PHONE, "email": "ada.obi@example.ng",
            "stage": "Lead", "notes": "walk-in", "customFields": {"size": "M"},
            "tags": ["Walk In", "Hot Lead"]}
    response = post(http, "/contacts", body)
    assert response.status_code == 200, response.text
    created = response.json()
    assert {k: created[k] for k in body} == body
    assert created["createdAt"] == created["updatedAt"] and parse_iso_ms(created["createdAt"]) > BASE_END_MS
    assert get(http, "/contacts", limit=1).json() == [created]
    assert get(http, f"/contacts/{created['id']}").json() == created
    after = truth(http)
    assert after["counts"]["whautomate"]["contacts"] == before["counts"]["whautomate"]["contacts"] + 1
    person = next(p for p in after["people"] if p["accounts"].get("whautomate") == created["id"])
    assert person["phone_e164"] == NEW_PHONE
    tags = {t["name"] for t in walk(http, "/contactTags")}
    assert "Walk In" in tags
    assert after["counts"]["whautomate"]["contact_tags"] == before["counts"]["whautomate"]["contact_tags"] + 1
    assert created["id"] in after["memberships"]["whautomate"]["Walk In"]


def test_create_contact_defaults_and_refusals(http: httpx.Client) -> None:
    minimal = post(http, "/contacts", {"name": "Bo", "phoneNumber": NEW_PHONE}).json()
    assert (minimal["stage"], minimal["tags"], minimal["email"]) == ("Subscriber", [], None)
    duplicate = post(http, "/contacts", {"name": "Bo again", "phoneNumber": NEW_PHONE.lstrip("+")})
    assert duplicate.status_code == 400 and duplicate.json() == {"message": "Contact already exists"}
    invalid = post(http, "/contacts", {"name": "X", "phoneNumber": "call me"})
    assert invalid.status_code == 400 and invalid.json() == {"message": "Invalid phone number"}
    for body in ({"name": "No phone"}, {"phoneNumber": "+2348169990002"}, [],
                 {"name": "X", "phoneNumber": "+2348169990002", "stage": "Boss"},
                 {"name": "X", "phoneNumber": "+2348169990002", "tags": "vip"},
                 {"name": " ", "phoneNumber": "+2348169990002"}):
        response = post(http, "/contacts", body)
        assert response.status_code == 400 and response.json() == {"message": "Invalid request body"}
    raw = http.post(BASE + "/contacts", content=b"{not json", headers=KEY)
    assert raw.status_code == 400 and raw.json() == {"message": "Invalid request body"}


def test_update_contact_bumps_updated_at(http: httpx.Client) -> None:
    contact = some_contact(http)
    response = http.put(f"{BASE}/contacts/{contact['id']}", headers=KEY,
                        json={"stage": "Customer", "notes": "paid", "customFields": {"x": 1}})
    assert response.status_code == 200
    updated = response.json()
    assert (updated["stage"], updated["notes"], updated["customFields"]) == ("Customer", "paid", {"x": 1})
    assert updated["name"] == contact["name"] and updated["createdAt"] == contact["createdAt"]
    assert parse_iso_ms(updated["updatedAt"]) > parse_iso_ms(contact["updatedAt"])
    assert get(http, f"/contacts/{contact['id']}").json() == updated
    bad = http.put(f"{BASE}/contacts/{contact['id']}", headers=KEY, json={"stage": "Boss"})
    assert bad.status_code == 400 and bad.json() == {"message": "Invalid request body"}
    assert http.put(f"{BASE}/contacts/{'0' * 24}", headers=KEY, json={}).status_code == 404


def test_delete_contact(http: httpx.Client) -> None:
    contact = some_contact(http)
    count = truth(http)["counts"]["whautomate"]["contacts"]
    response = http.delete(f"{BASE}/contacts/{contact['id']}", headers=KEY)
    assert response.status_code == 200 and response.json() == {"success": True}
    assert get(http, f"/contacts/{contact['id']}").status_code == 404
    assert get(http, f"/messages/{contact['id']}").status_code == 404
    assert contact["id"] not in {c["id"] for c in walk(http, "/contacts")}
    assert truth(http)["counts"]["whautomate"]["contacts"] == count - 1
    assert http.delete(f"{BASE}/contacts/{contact['id']}", headers=KEY).status_code == 404


def test_contact_tags_add_and_remove(http: httpx.Client) -> None:
    contact = next(c for c in walk(http, "/contacts") if not c["tags"])
    path = f"/contacts/{contact['id']}/tags"
    added = post(http, path + "/add", {"tags": ["Segment: Big Spenders", "Hot Lead"]}).json()
    assert added["tags"] == ["Segment: Big Spenders", "Hot Lead"]
    assert parse_iso_ms(added["updatedAt"]) > parse_iso_ms(contact["updatedAt"])
    assert get(http, f"/contacts/{contact['id']}").json() == added
    tag = next(t for t in walk(http, "/contactTags") if t["name"] == "Segment: Big Spenders")
    assert tag["canonical"] == "segment-big-spenders"
    assert truth(http)["memberships"]["whautomate"]["Segment: Big Spenders"] == [contact["id"]]
    again = post(http, path + "/add", {"tags": ["Hot Lead"]}).json()
    assert again == added  # nothing changed: updatedAt stays
    removed = post(http, path + "/remove", {"tags": ["Segment: Big Spenders", "absent"]}).json()
    assert removed["tags"] == ["Hot Lead"]
    assert parse_iso_ms(removed["updatedAt"]) >= parse_iso_ms(added["updatedAt"])
    assert "Segment: Big Spenders" not in truth(http)["memberships"]["whautomate"]
    for body in ({}, {"tags": []}, {"tags": [""]}, {"tags": "vip"}):
        response = post(http, path + "/add", body)
        assert response.status_code == 400 and response.json() == {"message": "Invalid request body"}
    assert post(http, f"/contacts/{'0' * 24}/tags/add", {"tags": ["x"]}).status_code == 404


def test_listing_shifts_when_a_contact_is_created_during_a_scan(http: httpx.Client) -> None:
    first = get(http, "/contacts", limit=5, page=1).json()
    post(http, "/contacts", {"name": "Late", "phoneNumber": NEW_PHONE})
    second = get(http, "/contacts", limit=5, page=2).json()
    assert second[0] == first[-1]


# -- contact tags, clients, segments, messages -----------------------------------------------
def test_contact_tag_definitions(http: httpx.Client) -> None:
    tags = walk(http, "/contactTags", limit=2)
    assert len(tags) == truth(http)["counts"]["whautomate"]["contact_tags"] > 0
    for tag in tags:
        assert set(tag) == {"id", "name", "canonical", "createdAt", "updatedAt"}
        assert tag["canonical"] == re.sub(r"[^0-9a-z]+", "-", tag["name"].lower()).strip("-")
        assert ISO.match(tag["createdAt"]) and ISO.match(tag["updatedAt"])
        assert get(http, f"/contactTags/{tag['id']}").json() == tag
    created = post(http, "/contactTags", {"name": "Paid Ads"}).json()
    assert created["canonical"] == "paid-ads"
    assert walk(http, "/contactTags")[0] == created
    assert walk(http, "/contactTags", searchText="paid") == [created]
    duplicate = post(http, "/contactTags", {"name": "paid ads"})
    assert duplicate.status_code == 400
    assert post(http, "/contactTags", {"title": "x"}).json() == {"message": "Invalid request body"}


def test_hand_made_tags_are_in_use_without_definitions(http: httpx.Client) -> None:
    facts = truth(http)["memberships"]["whautomate"]
    defined = {t["name"] for t in walk(http, "/contactTags")}
    assert set(facts) - defined  # typed straight onto contacts
    in_use: dict[str, set[str]] = {}
    for contact in walk(http, "/contacts"):
        for tag in contact["tags"]:
            in_use.setdefault(tag, set()).add(contact["id"])
    assert {tag: set(ids) for tag, ids in facts.items()} == in_use


def test_clients(sandbox: SandboxServer, http: httpx.Client) -> None:
    clients = walk(http, "/clients", limit=9)
    contacts = walk(http, "/contacts")
    assert 0 < len(clients) == truth(http)["counts"]["whautomate"]["clients"] < len(contacts)
    assert len({c["id"] for c in clients}) == len(clients)
    created = [parse_iso_ms(c["createdAt"]) for c in clients]
    assert created == sorted(created, reverse=True)
    population = sandbox.world.population
    contact_people = {population.person_from_phone(re.sub(r"\D", "", c["phoneNumber"])) for c in contacts}
    for client in clients:
        assert set(client) == CLIENT_KEYS and HEX24.match(client["id"])
        assert set(client["primaryLocation"]) == {"id", "title"}
        assert ISO.match(client["createdAt"]) and ISO.match(client["updatedAt"])
        assert population.person_from_phone(re.sub(r"\D", "", client["phoneNumber"])) in contact_people
    client = clients[0]
    assert get(http, f"/clients/{client['id']}").json() == client
    added = post(http, f"/clients/{client['id']}/tags/add", {"tags": ["Gold"]}).json()
    assert added["tags"] == client["tags"] + ["Gold"]
    assert parse_iso_ms(added["updatedAt"]) > parse_iso_ms(client["updatedAt"])
    removed = post(http, f"/clients/{client['id']}/tags/remove", {"tags": ["Gold"]}).json()
    assert removed["tags"] == client["tags"]
    assert get(http, f"/clients/{client['id']}").json() == removed
    assert "Gold" not in {t["name"] for t in walk(http, "/contactTags")}
    assert post(http, f"/clients/{client['id']}/tags/add", {"tags": []}).status_code == 400


def test_segments(http: httpx.Client) -> None:
    existing = walk(http, "/segments")
    assert len(existing) == truth(http)["counts"]["whautomate"]["segments"] >= 2
    for segment in existing:
        assert set(segment) == {"id", "name", "type", "criteria", "location"}
        assert get(http, f"/segments/{segment['id']}").json() == segment
    body = {"name": "VIP push", "type": "contact",
            "criteria": {"tags": ["vip"], "exclusionTags": [], "contactStage": "Customer"},
            "location": {"id": existing[0]["location"]["id"]}}
    created = post(http, "/segments", body).json()
    assert {k: created[k] for k in body} == body and HEX24.match(created["id"])
    assert walk(http, "/segments")[0] == created
    assert walk(http, "/segments", searchText="vip PUSH") == [created]
    assert created in walk(http, "/segments", locationId=body["location"]["id"])
    assert walk(http, "/segments", locationId="0" * 24) == []
    for bad in ({"type": "contact"}, {"name": "x"}, {"name": "x", "type": "group"},
                {"name": "x", "type": "client", "criteria": {"colour": "red"}},
                {"name": "x", "type": "client", "criteria": {"ageFrom": "ten"}}):
        response = post(http, "/segments", bad)
        assert response.status_code == 400 and response.json() == {"message": "Invalid request body"}
    deleted = http.delete(f"{BASE}/segments/{created['id']}", headers=KEY)
    assert deleted.json() == {"success": True}
    assert get(http, f"/segments/{created['id']}").status_code == 404
    assert walk(http, "/segments") == existing


def test_messages(http: httpx.Client) -> None:
    total, seen = 0, set()
    for contact in walk(http, "/contacts"):
        response = get(http, f"/messages/{contact['id']}")
        assert response.status_code == 200
        messages = response.json()
        total += len(messages)
        stamps = [parse_iso_ms(m["createdAt"]) for m in messages]
        assert stamps == sorted(stamps)
        for message in messages:
            assert set(message) == {"id", "direction", "type", "text", "status", "createdAt"}
            assert message["direction"] in ("inbound", "outbound") and ISO.match(message["createdAt"])
            assert parse_iso_ms(contact["createdAt"]) <= parse_iso_ms(message["createdAt"])
            seen.add(message["id"])
    assert total == len(seen) == truth(http)["counts"]["whautomate"]["messages"] > 0


# -- churn and determinism ------------------------------------------------------------------
def _by_id(http: httpx.Client, path: str) -> dict[str, dict]:
    return {r["id"]: r for r in walk(http, path)}


def test_churn_reports_exactly_what_changed(http: httpx.Client) -> None:
    contacts, clients = _by_id(http, "/contacts"), _by_id(http, "/clients")
    messages = {cid: get(http, f"/messages/{cid}").json() for cid in contacts}
    answer = http.post("/_sandbox/churn", json={"update": 0.1, "create": 0.05, "delete": 0.05,
                                               "seed": 3}).json()["whautomate"]
    after, clients_after = _by_id(http, "/contacts"), _by_id(http, "/clients")
    report = answer["contacts"]
    assert set(report["deleted"]) == set(contacts) - set(after) and report["deleted"]
    assert set(report["created"]) == set(after) - set(contacts) and report["created"]
    changed = {cid for cid in set(contacts) & set(after) if after[cid] != contacts[cid]}
    assert set(report["updated"]) == changed and changed
    for cid in report["updated"] + report["created"]:
        assert parse_iso_ms(after[cid]["updatedAt"]) > BASE_END_MS
    newest = [after[cid] for cid in report["created"]]
    assert walk(http, "/contacts")[:len(newest)] == newest[::-1]
    changed_clients = {cid for cid in clients if clients_after[cid] != clients[cid]}
    assert set(answer["clients"]["updated"]) == changed_clients and changed_clients
    for cid in changed_clients:
        assert parse_iso_ms(clients_after[cid]["updatedAt"]) > BASE_END_MS
    messages_after = {cid: get(http, f"/messages/{cid}").json() for cid in after}
    old_ids = {m["id"] for ms in messages.values() for m in ms}
    new_ids = {m["id"] for ms in messages_after.values() for m in ms}
    assert set(answer["messages"]["created"]) == new_ids - old_ids
    assert set(answer["messages"]["deleted"]) == old_ids - new_ids
    for cid, conversation in messages_after.items():
        if set(m["id"] for m in conversation) - old_ids:
            assert after[cid]["lastActivity"] == conversation[-1]["createdAt"]
    counts = truth(http)["counts"]["whautomate"]
    assert (counts["contacts"], counts["messages"]) == (len(after), len(new_ids))


def test_churn_keeps_truth_in_step_with_the_api(http: httpx.Client) -> None:
    http.post("/_sandbox/churn", json={"update": 0.2, "create": 0.1, "delete": 0.1, "seed": 5})
    facts = truth(http)
    contacts = walk(http, "/contacts")
    accounts = {p["accounts"]["whautomate"] for p in facts["people"] if "whautomate" in p["accounts"]}
    assert {c["id"] for c in contacts} == accounts
    in_use: dict[str, set[str]] = {}
    for contact in contacts:
        for tag in contact["tags"]:
            in_use.setdefault(tag, set()).add(contact["id"])
    assert {t: set(ids) for t, ids in facts["memberships"]["whautomate"].items()} == in_use


def _pages(url: str) -> list:
    with httpx.Client(base_url=url, headers=KEY) as client:
        pages = [client.get(BASE + path, params={"limit": 50, "page": page}).json()
                 for path, page in (("/contacts", 2), ("/clients", 2), ("/contactTags", 1),
                                    ("/segments", 1))]
        return pages + [client.get(f"{BASE}/messages/{pages[0][0]['id']}").json()]


def test_same_seed_same_pages_other_seed_other_pages(http: httpx.Client, sandbox: SandboxServer) -> None:
    mine = _pages(sandbox.url)
    with SandboxServer(World(seed=SEED, contacts=PEOPLE)) as twin:
        assert _pages(twin.url) == mine
    with SandboxServer(World(seed=SEED + 1, contacts=PEOPLE)) as other:
        assert all(theirs != ours for theirs, ours in zip(_pages(other.url), mine))
