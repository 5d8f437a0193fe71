"""DM Champ emulator over real HTTP (CONTRACT.md section 2)."""

from __future__ import annotations

import re
from types import SimpleNamespace

import httpx
import pytest

from crmsync.sandbox import phones
from crmsync.sandbox.clock import BASE_END_MS, parse_iso_ms
from crmsync.sandbox.credentials import DMCHAMP_API_KEY
from crmsync.sandbox.providers.dmchamp import LISTS, NEWSLETTER_LIST, TAGS, DmChamp
from crmsync.sandbox.server import SandboxServer
from crmsync.sandbox.world import World

BASE = "/dmchamp/v1"
KEY = {"apiKey": DMCHAMP_API_KEY}
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
NOT_FOUND = {"success": False, "message": "Contact not found"}


def dm(sandbox: SandboxServer) -> DmChamp:
    return sandbox.world.providers["dmchamp"]


def lookup(http: httpx.Client, **query: str) -> httpx.Response:
    return http.get(f"{BASE}/contacts", params={**KEY, **query})


def record_of(sandbox: SandboxServer, contact_id: str) -> dict:
    """The stored record (not readable through the API, which only has lookups)."""
    provider = dm(sandbox)
    return provider.contacts.get(provider.k_of(contact_id))


def truth_accounts(http: httpx.Client) -> dict[str, int]:
    """DM Champ contact id -> person, from the sandbox's truth."""
    people = http.get("/_sandbox/truth").json()["people"]
    return {p["accounts"]["dmchamp"]: p["person"] for p in people if "dmchamp" in p["accounts"]}


def all_contact_ids(sandbox: SandboxServer) -> list[str]:
    return [contact_id for _person, contact_id in dm(sandbox).accounts()]


def non_member(sandbox: SandboxServer) -> int:
    """A generated person with a phone who is not in DM Champ."""
    population = sandbox.world.population
    return next(i for i in range(population.size)
                if "dmchamp" not in population.providers_of(i) and not population.is_junk(i))


# -- auth and errors ------------------------------------------------------------------------
@pytest.mark.parametrize("params", [{}, {"apiKey": "wrong"}])
def test_missing_or_wrong_key_is_plain_unauthorized(http: httpx.Client, sandbox: SandboxServer,
                                                    params: dict) -> None:
    phone = record_of(sandbox, all_contact_ids(sandbox)[0])["phoneNumber"]
    for method, path in (("GET", "/contacts"), ("POST", "/contacts"), ("POST", "/contacts/lists"),
                         ("GET", "/contacts/messages/x"), ("PUT", "/contacts/x")):
        response = http.request(method, BASE + path, params={**params, "phoneNumber": phone})
        assert response.status_code == 401
        assert response.text == "Unauthorized"
        assert response.headers["content-type"].startswith("text/plain")
    assert lookup(http, phoneNumber=phone).status_code == 200


def test_rate_limit_answers_429_with_retry_after(http: httpx.Client) -> None:
    assert http.post("/_sandbox/faults", json={"rate_limit": 1}).status_code == 200
    statuses = [lookup(http, phoneNumber="+2348031234567") for _ in range(5)]
    limited = [r for r in statuses if r.status_code == 429]
    assert limited
    assert int(limited[0].headers["Retry-After"]) >= 1
    assert set(limited[0].json()) == {"error"}


def test_injected_server_error_has_the_error_shape(http: httpx.Client) -> None:
    http.post("/_sandbox/faults", json={"error_rate": 1.0})
    response = lookup(http, phoneNumber="+2348031234567")
    assert response.status_code in (500, 502, 503)
    assert set(response.json()) == {"error"}


# -- lookups ------------------------------------------------------------------------------
def test_every_contact_is_found_by_its_phone(http: httpx.Client, sandbox: SandboxServer) -> None:
    ids = all_contact_ids(sandbox)
    assert len(ids) == dm(sandbox).counts()["contacts"] > 50
    for contact_id in ids:
        response = lookup(http, phoneNumber=record_of(sandbox, contact_id)["phoneNumber"])
        assert response.status_code == 200
        assert response.json() == {"success": True, "contactId": contact_id}


def test_people_known_elsewhere_are_found_by_phone_else_email(http: httpx.Client) -> None:
    people = http.get("/_sandbox/truth").json()["people"]
    population = World(seed=7, contacts=400).population
    found_by_phone = found_by_email = 0
    for p in people:
        if "dmchamp" not in p["accounts"]:
            continue
        # DM Champ cannot be listed: its people are in another provider too.
        assert set(population.providers_of(p["person"])) - {"dmchamp"}
        response = lookup(http, phoneNumber=p["phone_e164"])
        if response.status_code == 200:
            found_by_phone += 1
            assert response.json()["contactId"] == p["accounts"]["dmchamp"]
            continue
        assert response.json() == NOT_FOUND
        email = population.person(p["person"]).email
        assert email is not None
        by_email = lookup(http, email=email.upper())
        assert by_email.json() == {"success": True, "contactId": p["accounts"]["dmchamp"]}
        found_by_email += 1
    assert found_by_phone > 50


def test_secondary_phone_finds_only_records_created_with_it() -> None:
    world = World(seed=7, contacts=4000)
    provider: DmChamp = world.providers["dmchamp"]
    population = world.population
    used = unused = 0
    with SandboxServer(world) as server, httpx.Client(base_url=server.url) as http:
        for k in provider.contacts.alive():
            person = population.person(provider.person_of(int(k)))
            if person.secondary_national is None:
                continue
            contact_id = provider.contact_id(int(k))
            cc = person.calling_code
            primary = lookup(http, phoneNumber=f"+{cc}{person.national}")
            secondary = lookup(http, phoneNumber=f"+{cc}{person.secondary_national}")
            record = provider.contacts.get(int(k))
            if record["email"]:
                assert lookup(http, email=person.email).json()["contactId"] == contact_id
            if record["phoneNumber"].endswith(person.secondary_national):
                used += 1
                assert record["email"]  # else nobody could find it
                assert (primary.status_code, secondary.json()["contactId"]) == (404, contact_id)
            else:
                unused += 1
                assert (secondary.status_code, primary.json()["contactId"]) == (404, contact_id)
    assert used and unused


def test_phone_shapes(http: httpx.Client, sandbox: SandboxServer) -> None:
    contact_id = all_contact_ids(sandbox)[0]
    e164 = record_of(sandbox, contact_id)["phoneNumber"]
    cc = dm(sandbox).population.person(dm(sandbox).person_of(0)).calling_code
    national = e164[1 + len(cc):]
    for shape in (e164, phones.spaced(cc, national), phones.bracketed(cc, national)):
        assert lookup(http, phoneNumber=shape).json()["contactId"] == contact_id
    for shape in (e164[1:], f"0{national}", "not a phone", "+0"):
        response = lookup(http, phoneNumber=shape)
        assert (response.status_code, response.json()) == (400, {"error": "Invalid phone number"})
    # A "+" sent unencoded in the query string arrives as a space.
    raw = http.get(f"{BASE}/contacts?apiKey={DMCHAMP_API_KEY}&phoneNumber={e164}")
    assert raw.status_code == 400


def test_unknown_phone_email_and_missing_parameters(http: httpx.Client,
                                                    sandbox: SandboxServer) -> None:
    outsider = sandbox.world.population.person(non_member(sandbox))
    assert lookup(http, phoneNumber=outsider.phone_e164).json() == NOT_FOUND
    assert lookup(http, phoneNumber=outsider.phone_e164).status_code == 404
    assert lookup(http, email="nobody@example.com").json() == NOT_FOUND
    bad_email = lookup(http, email="not-an-email")
    assert (bad_email.status_code, set(bad_email.json())) == (400, {"error"})
    for query in ({}, {"phoneNumber": ""}, {"email": ""}):
        response = lookup(http, **query)
        assert (response.status_code, set(response.json())) == (400, {"error"})


def test_email_is_trimmed_and_case_insensitive(http: httpx.Client, sandbox: SandboxServer) -> None:
    provider = dm(sandbox)
    k = next(int(k) for k in provider.contacts.alive() if provider.contacts.get(int(k))["email"])
    email = provider.contacts.get(k)["email"]
    for variant in (email, email.upper(), f"  {email.title()} "):
        assert lookup(http, email=variant).json() == {"success": True,
                                                      "contactId": provider.contact_id(k)}


# -- writes -------------------------------------------------------------------------------
def test_create_contact_defaults_lookup_and_duplicate(http: httpx.Client,
                                                      sandbox: SandboxServer) -> None:
    person = sandbox.world.population.person(non_member(sandbox))
    before = dm(sandbox).counts()["contacts"]
    spaced = f"+{person.calling_code} {person.national}"
    created = http.post(f"{BASE}/contacts", params=KEY, json={"phoneNumber": spaced})
    assert created.status_code == 200
    body = created.json()
    assert body["success"] is True and set(body) == {"success", "contactId"}
    contact_id = body["contactId"]
    assert re.fullmatch(r"[0-9a-f]{24}", contact_id)
    assert lookup(http, phoneNumber=person.phone_e164).json()["contactId"] == contact_id
    record = record_of(sandbox, contact_id)
    assert (record["phoneNumber"], record["firstName"], record["lastName"]) == (
        person.phone_e164, "Unknown", "Unknown")
    assert (record["is_bot_active"], record["do_not_disturb"]) == (True, False)
    assert dm(sandbox).counts()["contacts"] == before + 1
    assert truth_accounts(http)[contact_id] == person.index
    again = http.post(f"{BASE}/contacts", params=KEY, json={"phoneNumber": person.phone_e164})
    assert (again.status_code, again.json()) == (
        400, {"error": "Contact already exists", "contactId": contact_id})


def test_create_with_a_generated_contacts_phone_is_a_duplicate(http: httpx.Client,
                                                               sandbox: SandboxServer) -> None:
    contact_id = all_contact_ids(sandbox)[3]
    phone = record_of(sandbox, contact_id)["phoneNumber"]
    response = http.post(f"{BASE}/contacts", params=KEY, json={"phoneNumber": phone})
    assert (response.status_code, response.json()) == (
        400, {"error": "Contact already exists", "contactId": contact_id})


def test_create_an_unknown_person_with_fields_and_lists(http: httpx.Client,
                                                        sandbox: SandboxServer) -> None:
    phone = "+447400999999"
    assert sandbox.world.population.person_from_phone(phone[1:]) is None
    body = {"phoneNumber": phone, "firstName": "Ada", "email": "Ada@Example.com ",
            "is_bot_active": False, "listIds": ["list_high_value", "list_spare_2"]}
    response = http.post(f"{BASE}/contacts", params=KEY, json=body)
    contact_id = response.json()["contactId"]
    assert lookup(http, email="ada@example.com").json()["contactId"] == contact_id
    record = record_of(sandbox, contact_id)
    assert (record["firstName"], record["lastName"], record["is_bot_active"]) == (
        "Ada", "Unknown", False)
    memberships = dm(sandbox).memberships()
    assert [k for k, ids in memberships.items() if contact_id in ids] == body["listIds"]
    people = http.get("/_sandbox/truth").json()["people"]
    adopted = [p for p in people if p["accounts"].get("dmchamp") == contact_id]
    assert adopted[0]["phone_e164"] == phone


@pytest.mark.parametrize("body, status", [
    ({}, 400),
    ({"firstName": "Ada"}, 400),
    ({"phoneNumber": "2348031234567"}, 400),
    ({"phoneNumber": "+447400999998", "is_bot_active": "yes"}, 400),
    ({"phoneNumber": "+447400999998", "email": "nope"}, 400),
    ({"phoneNumber": "+447400999998", "listIds": "list_spare_1"}, 400),
    ({"phoneNumber": "+447400999998", "listIds": ["list_spare_1", "list_nope"]}, 404),
])
def test_create_rejects_bad_bodies_and_creates_nothing(http: httpx.Client, sandbox: SandboxServer,
                                                       body: dict, status: int) -> None:
    before = dm(sandbox).counts()
    response = http.post(f"{BASE}/contacts", params=KEY, json=body)
    assert response.status_code == status
    expected_keys = {"error"} if status == 400 else {"success", "message"}
    assert set(response.json()) == expected_keys
    assert dm(sandbox).counts() == before
    assert lookup(http, phoneNumber="+447400999998").status_code == 404


def test_update_contact(http: httpx.Client, sandbox: SandboxServer) -> None:
    provider = dm(sandbox)
    contact_id = all_contact_ids(sandbox)[1]
    k = provider.k_of(contact_id)
    old_email = record_of(sandbox, contact_id)["email"]
    url = f"{BASE}/contacts/{contact_id}"
    response = http.put(url, params=KEY, json={"firstName": "Zed", "email": "zed@new.example",
                                               "do_not_disturb": True, "phoneNumber": "+1"})
    assert response.json() == {"success": True, "message": "Contact updated successfully"}
    record = record_of(sandbox, contact_id)
    assert (record["firstName"], record["do_not_disturb"]) == ("Zed", True)
    assert provider.contacts.updated_ms(k) > BASE_END_MS
    assert parse_iso_ms(record["updatedAt"]) == provider.contacts.updated_ms(k)
    assert lookup(http, email="ZED@new.example").json()["contactId"] == contact_id
    assert lookup(http, phoneNumber=record["phoneNumber"]).json()["contactId"] == contact_id
    if old_email:
        assert lookup(http, email=old_email).status_code == 404
    bad = http.put(url, params=KEY, json={"is_bot_active": "no"})
    assert (bad.status_code, set(bad.json())) == (400, {"error"})
    missing = http.put(f"{BASE}/contacts/{'0' * 24}", params=KEY, json={"firstName": "X"})
    assert (missing.status_code, missing.json()) == (404, NOT_FOUND)


# -- lists --------------------------------------------------------------------------------
def test_add_and_remove_list_membership(http: httpx.Client, sandbox: SandboxServer) -> None:
    contact_id = all_contact_ids(sandbox)[2]
    body = {"contactId": contact_id, "listId": "list_stalled_deals"}
    name = LISTS["list_stalled_deals"]
    for _ in range(2):  # adding twice is a no-op success
        added = http.post(f"{BASE}/contacts/lists", params=KEY, json=body)
        assert added.json() == {"success": True,
                                "message": f"Contact successfully added to list {name}"}
        assert dm(sandbox).memberships()["list_stalled_deals"] == [contact_id]
    for _ in range(2):
        removed = http.request("DELETE", f"{BASE}/contacts/lists", params=KEY, json=body)
        assert removed.json() == {"success": True,
                                  "message": f"Contact successfully removed from list {name}"}
        assert dm(sandbox).memberships()["list_stalled_deals"] == []


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_list_errors(http: httpx.Client, sandbox: SandboxServer, method: str) -> None:
    contact_id = all_contact_ids(sandbox)[2]
    cases = [
        ({"contactId": contact_id, "listId": "list_nope"}, 404,
         {"success": False, "message": "List not found"}),
        ({"contactId": "0" * 24, "listId": "list_spare_1"}, 404, NOT_FOUND),
        ({"contactId": contact_id}, 400, None),
        ({"listId": "list_spare_1"}, 400, None),
        (None, 400, None),
    ]
    for body, status, expected in cases:
        response = http.request(method, f"{BASE}/contacts/lists", params=KEY, json=body)
        assert response.status_code == status
        if expected is None:
            assert set(response.json()) == {"error"}
        else:
            assert response.json() == expected
    assert all(ids == [] for name, ids in dm(sandbox).memberships().items()
               if name != NEWSLETTER_LIST)


def test_memberships_start_with_a_newsletter(http: httpx.Client, sandbox: SandboxServer) -> None:
    memberships = dm(sandbox).memberships()
    assert list(memberships) == list(LISTS)
    newsletter = memberships[NEWSLETTER_LIST]
    assert 0 < len(newsletter) < len(all_contact_ids(sandbox)) // 5
    for contact_id in newsletter:
        assert http.get(f"{BASE}/contacts/tags/{contact_id}", params=KEY).status_code == 200


# -- tags, messages, counts ---------------------------------------------------------------
def test_tags_messages_and_counts_agree(http: httpx.Client, sandbox: SandboxServer) -> None:
    ids = all_contact_ids(sandbox)
    assert set(ids) == set(truth_accounts(http))
    tag_names = {name: description for name, description in TAGS}
    n_tags = n_messages = 0
    message_ids = set()
    for contact_id in ids:
        tags = http.get(f"{BASE}/contacts/tags/{contact_id}", params=KEY).json()
        assert len(tags) <= 3 and len({t["name"] for t in tags}) == len(tags)
        assert all(tag_names[t["name"]] == t["description"] and set(t) == {"name", "description"}
                   for t in tags)
        messages = http.get(f"{BASE}/contacts/messages/{contact_id}", params=KEY).json()
        assert len(messages) <= 6
        stamps = [m["createdAt"] for m in messages]
        assert all(ISO_MS.match(s) for s in stamps)
        assert [parse_iso_ms(s) for s in stamps] == sorted(parse_iso_ms(s) for s in stamps)
        for m in messages:
            assert set(m) == {"id", "direction", "channel", "text", "createdAt"}
            assert m["direction"] in ("inbound", "outbound") and m["text"] and m["channel"]
            assert parse_iso_ms(m["createdAt"]) < BASE_END_MS
        message_ids |= {m["id"] for m in messages}
        n_tags += len(tags)
        n_messages += len(messages)
    assert n_messages == len(message_ids)  # ids are unique across contacts
    assert dm(sandbox).counts() == {"contacts": len(ids), "messages": n_messages,
                                    "contact_tags": n_tags}
    assert n_messages > len(ids) and n_tags > 0


def test_tags_and_messages_of_unknown_contact(http: httpx.Client) -> None:
    for path in ("tags", "messages"):
        for contact_id in ("0" * 24, "nope"):
            response = http.get(f"{BASE}/contacts/{path}/{contact_id}", params=KEY)
            assert (response.status_code, response.json()) == (404, NOT_FOUND)


# -- churn --------------------------------------------------------------------------------
def messages_of(http: httpx.Client, contact_id: str) -> httpx.Response:
    return http.get(f"{BASE}/contacts/messages/{contact_id}", params=KEY)


def test_churn_updates_creates_and_deletes(http: httpx.Client, sandbox: SandboxServer) -> None:
    provider = dm(sandbox)
    before_ids = set(all_contact_ids(sandbox))
    before_messages = {cid: messages_of(http, cid).json() for cid in before_ids}
    answer = http.post("/_sandbox/churn", json={"update": 0.1, "create": 0.05, "delete": 0.05,
                                                "seed": 3}).json()["dmchamp"]
    contacts, messages = answer["contacts"], answer["messages"]
    assert contacts["updated"] and contacts["created"] and contacts["deleted"]
    assert set(contacts["updated"]) <= before_ids and set(contacts["deleted"]) <= before_ids
    assert not set(contacts["updated"]) & set(contacts["deleted"])
    after_ids = set(all_contact_ids(sandbox))
    assert after_ids == before_ids - set(contacts["deleted"]) | set(contacts["created"])

    new_message_ids = set()
    for contact_id in contacts["updated"]:
        k = provider.k_of(contact_id)
        assert provider.contacts.updated_ms(k) > BASE_END_MS
        now = messages_of(http, contact_id).json()
        assert now[:len(before_messages[contact_id])] == before_messages[contact_id]
        new = now[len(before_messages[contact_id]):]
        assert all(parse_iso_ms(m["createdAt"]) > BASE_END_MS for m in new)
        new_message_ids |= {m["id"] for m in new}
    assert new_message_ids == set(messages["created"])
    for contact_id in set(before_ids) - set(contacts["updated"]) - set(contacts["deleted"]):
        assert messages_of(http, contact_id).json() == before_messages[contact_id]

    gone = {m["id"] for cid in contacts["deleted"] for m in before_messages[cid]}
    assert gone == set(messages["deleted"])
    for contact_id in contacts["deleted"]:
        assert messages_of(http, contact_id).status_code == 404
        assert all(contact_id not in ids for ids in provider.memberships().values())

    accounts = truth_accounts(http)
    population = sandbox.world.population
    for contact_id in contacts["created"]:
        person = population.person(accounts[contact_id])
        assert set(population.providers_of(person.index)) - {"dmchamp"}
        assert "dmchamp" not in population.providers_of(person.index)
        assert lookup(http, phoneNumber=person.phone_e164).json()["contactId"] == contact_id
        assert messages_of(http, contact_id).json() == []

    counts = provider.counts()
    assert counts["contacts"] == len(after_ids)
    assert counts["messages"] == sum(len(messages_of(http, c).json()) for c in after_ids)


# -- determinism --------------------------------------------------------------------------
def snapshot(world: World) -> list:
    """What the API serves for the first contacts: lookups, tags and messages."""
    provider: DmChamp = world.providers["dmchamp"]
    phones = [provider.contacts.get(k)["phoneNumber"] for k in range(20)]
    with SandboxServer(world) as server, httpx.Client(base_url=server.url) as http:
        out = []
        for phone in phones:
            contact_id = lookup(http, phoneNumber=phone).json()["contactId"]
            out.append((phone, contact_id,
                        http.get(f"{BASE}/contacts/tags/{contact_id}", params=KEY).json(),
                        messages_of(http, contact_id).json()))
        return out


def test_same_seed_same_data_other_seed_differs() -> None:
    first = snapshot(World(seed=7, contacts=400))
    assert first == snapshot(World(seed=7, contacts=400))
    assert first != snapshot(World(seed=8, contacts=400))


def test_same_seed_churns_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    # Created contacts' ObjectIds carry their creation second (as real ones do): the clock is
    # held still so that both churns happen in the same second.
    monkeypatch.setattr("crmsync.sandbox.clock.time", SimpleNamespace(time=lambda: 1_800_000_000.0))
    left, right = (World(seed=7, contacts=400).churn(0.1, 0.05, 0.05, seed=5)["dmchamp"]
                   for _ in range(2))
    assert left["contacts"] == right["contacts"]
    assert len(left["messages"]["created"]) == len(right["messages"]["created"])
