"""The Waabot emulator over real HTTP, against CONTRACT.md section 4."""

from __future__ import annotations

import base64
import json
import re
from collections import Counter, defaultdict

import httpx
import pytest

from crmsync.sandbox import credentials as creds
from crmsync.sandbox.clock import parse_iso_ms
from crmsync.sandbox.providers.waabot import api as waabot_api
from crmsync.sandbox.server import SandboxServer
from crmsync.sandbox.world import World

API = "/waabot/api/v1"
INSTANCE = {"session_id": creds.WAABOT_SESSION_ID, "access_token": creds.WAABOT_INSTANCE_TOKEN}
ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
CONTACT_KEYS = ["_id", "name", "number", "client_id", "group_id", "channel", "transaction",
                "createdAt", "updatedAt", "__v"]
GROUP_KEYS = {"_id", "is_default", "title", "client_id", "createdAt", "updatedAt", "__v"}
UNAUTHORIZED = {"status": False, "message": "Unauthorized", "data": None}
BAD_INSTANCE = {"status": False, "message": "Invalid instance credentials", "data": None}
DELETED = {"n": 1, "ok": 1, "deletedCount": 1}


def login(http: httpx.Client) -> dict:
    response = http.post(f"{API}/sessions",
                         json={"email": creds.WAABOT_EMAIL, "password": creds.WAABOT_PASSWORD})
    assert response.status_code == 200
    return response.json()["data"]


def claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


class Waabot:
    """An authenticated client: session tokens in headers, instance credentials where due."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        session = login(http)
        self.headers = {"Authorization": f"Bearer {session['accessToken']}",
                        "x-refresh": session["refreshToken"]}

    def get(self, path: str, **params: str) -> httpx.Response:
        return self.http.get(API + path, params={**INSTANCE, **params}, headers=self.headers)

    def delete(self, path: str) -> httpx.Response:
        return self.http.delete(API + path, params=INSTANCE, headers=self.headers)

    def post(self, path: str, body: dict) -> httpx.Response:
        return self.http.post(API + path, json={**INSTANCE, **body}, headers=self.headers)

    def put(self, path: str, body: dict) -> httpx.Response:
        return self.http.put(API + path, json={**INSTANCE, **body}, headers=self.headers)

    def contacts(self, everyone: bool = True) -> list[dict]:
        response = self.get("/contact", **({"type": "all"} if everyone else {}))
        assert response.status_code == 200
        body = response.json()
        assert body["status"] is True and body["message"] == "Contact fetched successfully!"
        return body["data"]

    def groups(self) -> list[dict]:
        response = self.get("/contact_groups")
        assert response.status_code == 200
        return response.json()["data"]

    def group_id(self, title: str) -> str:
        return next(g["_id"] for g in self.groups() if g["title"] == title)


@pytest.fixture()
def waabot(http: httpx.Client) -> Waabot:
    return Waabot(http)


@pytest.fixture()
def provider(sandbox: SandboxServer) -> waabot_api.Waabot:
    return sandbox.world.providers["waabot"]


# -- sessions and auth ----------------------------------------------------------------------
def test_login_issues_a_jwt_pair(http: httpx.Client, provider: waabot_api.Waabot) -> None:
    response = http.post(f"{API}/sessions",
                         json={"email": creds.WAABOT_EMAIL, "password": creds.WAABOT_PASSWORD})
    body = response.json()
    assert response.status_code == 200 and body["status"] is True
    access, refresh = body["data"]["accessToken"], body["data"]["refreshToken"]
    assert access != refresh
    header = json.loads(base64.urlsafe_b64decode(access.split(".")[0] + "=="))
    assert header == {"alg": "HS256", "typ": "JWT"}
    assert claims(access)["exp"] - claims(access)["iat"] == provider.access_ttl_s == 900
    assert claims(access)["sub"] == body["data"]["user"]["_id"]


@pytest.mark.parametrize("body", [
    {"email": creds.WAABOT_EMAIL, "password": "wrong"},
    {"email": "someone@else.test", "password": creds.WAABOT_PASSWORD},
    None,
])
def test_login_refuses_wrong_credentials(http: httpx.Client, body: dict | None) -> None:
    response = http.post(f"{API}/sessions", json=body)
    assert response.status_code == 401
    assert response.json() == {"status": False, "message": "Invalid email or password",
                               "data": None}


def _tamper(token: str) -> str:
    return token[:-2] + ("AA" if not token.endswith("AA") else "BB")


@pytest.mark.parametrize("spoil", ["no_header", "tampered_access", "refresh_as_access",
                                   "tampered_refresh", "no_refresh"])
def test_bad_session_tokens_are_refused(waabot: Waabot, spoil: str) -> None:
    access = waabot.headers["Authorization"].split(" ", 1)[1]
    refresh = waabot.headers["x-refresh"]
    headers = {
        "no_header": {"x-refresh": refresh},
        "tampered_access": {"Authorization": f"Bearer {_tamper(access)}", "x-refresh": refresh},
        "refresh_as_access": {"Authorization": f"Bearer {refresh}", "x-refresh": refresh},
        "tampered_refresh": {"Authorization": f"Bearer {access}", "x-refresh": _tamper(refresh)},
        "no_refresh": {"Authorization": f"Bearer {access}"},
    }[spoil]
    response = waabot.http.get(f"{API}/contact_groups", params=INSTANCE, headers=headers)
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


def test_expired_access_token_is_reissued(waabot: Waabot, provider: waabot_api.Waabot) -> None:
    provider.access_ttl_s = 0
    expired = login(waabot.http)
    provider.access_ttl_s = 900
    headers = {"Authorization": f"Bearer {expired['accessToken']}",
               "x-refresh": expired["refreshToken"]}
    response = waabot.http.get(f"{API}/contact_groups", params=INSTANCE, headers=headers)
    assert response.status_code == 200
    fresh = response.headers["x-access-token"]
    assert claims(fresh)["exp"] - claims(fresh)["iat"] == 900
    headers["Authorization"] = f"Bearer {fresh}"
    again = waabot.http.get(f"{API}/contact_groups", params=INSTANCE, headers=headers)
    assert again.status_code == 200 and "x-access-token" not in again.headers
    headers = {"Authorization": f"Bearer {expired['accessToken']}", "x-refresh": "nonsense"}
    refused = waabot.http.get(f"{API}/contact_groups", params=INSTANCE, headers=headers)
    assert refused.status_code == 401 and refused.json() == UNAUTHORIZED


def test_instance_credentials_are_checked(waabot: Waabot) -> None:
    http, headers = waabot.http, waabot.headers
    missing = http.get(f"{API}/contact", headers=headers)
    wrong = http.get(f"{API}/contact", headers=headers,
                     params={**INSTANCE, "access_token": "wrong"})
    in_get_body = http.request("GET", f"{API}/contact", headers=headers, json=INSTANCE)
    in_post_query = http.post(f"{API}/contact_groups", headers=headers, params=INSTANCE,
                              json={"title": "X"})
    for response in (missing, wrong, in_get_body, in_post_query):
        assert response.status_code == 401
        assert response.json() == BAD_INSTANCE
    assert [g["title"] for g in waabot.groups()].count("X") == 0


# -- contacts -------------------------------------------------------------------------------
def test_full_listing_is_every_record_newest_first(
        waabot: Waabot, provider: waabot_api.Waabot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(waabot_api, "STREAM_CHUNK", 7)  # many chunks, some empty for "mine"
    records = waabot.contacts()
    assert len(records) == provider.counts()["contacts"] > 0
    assert len({r["_id"] for r in records}) == len(records)
    created = [parse_iso_ms(r["createdAt"]) for r in records]
    assert created == sorted(created, reverse=True)
    for r in records:
        assert list(r) == CONTACT_KEYS
        assert re.fullmatch(r"[0-9a-f]{24}", r["_id"])
        assert int(r["_id"][:8], 16) == parse_iso_ms(r["createdAt"]) // 1000  # ObjectId time
        assert ISO_MS.match(r["createdAt"]) and ISO_MS.match(r["updatedAt"])
        assert r["updatedAt"] >= r["createdAt"]
        assert r["channel"] == "whatsapp" and r["__v"] == 0
        assert r["transaction"] == {"survey_id": None, "survey_sort_id": None}
    assert any(r["updatedAt"] == r["createdAt"] for r in records)
    assert any(r["updatedAt"] > r["createdAt"] for r in records)
    assert sum(r["number"].isdigit() for r in records) > len(records) / 2
    assert any(not r["number"].isdigit() for r in records)


def test_mine_is_the_accounts_client(waabot: Waabot) -> None:
    everyone = waabot.contacts()
    mine = waabot.contacts(everyone=False)
    account = {g["client_id"] for g in waabot.groups()}
    assert len(account) == 1
    assert mine == [r for r in everyone if r["client_id"] in account]
    clients = Counter(r["client_id"] for r in everyone)
    assert len(clients) == 2 and clients.most_common(1)[0][0] in account


def test_records_carry_their_persons_number(waabot: Waabot, sandbox: SandboxServer,
                                            provider: waabot_api.Waabot) -> None:
    population = sandbox.world.population
    person_of = {contact_id: person for person, contact_id in provider.accounts()}
    records = waabot.contacts()
    junk = 0
    for r in records:
        person = population.person(person_of[r["_id"]])
        if person.junk_phone is not None:
            junk += 1
            assert r["number"] == person.junk_phone
        else:
            assert re.sub(r"\D", "", r["number"]) == person.calling_code + person.national
    assert junk == sum(population.is_junk(p) for p in population.members("waabot"))
    per_group = Counter((r["group_id"], r["number"]) for r in records)
    assert max(per_group.values()) == 1  # a number appears once per group
    per_person = Counter(person_of[r["_id"]] for r in records)
    assert set(per_person.values()) == {1, 2}


def test_single_contact(waabot: Waabot) -> None:
    record = waabot.contacts()[5]
    response = waabot.get(f"/contact/{record['_id']}")
    assert response.status_code == 200
    assert response.json() == {"status": True, "message": "Contact fetched successfully!",
                               "data": record}
    forged = record["_id"][:8] + "ffff" + record["_id"][12:]
    for unknown in ("0" * 24, forged, "not-an-id"):
        missing = waabot.get(f"/contact/{unknown}")
        assert missing.status_code == 404
        assert missing.json() == {"status": False, "message": "Contact not found", "data": None}


def test_create_contact(waabot: Waabot, sandbox: SandboxServer,
                        provider: waabot_api.Waabot) -> None:
    population = sandbox.world.population
    stranger = next(i for i in range(population.size)
                    if "waabot" not in population.providers_of(i) and not population.is_junk(i))
    person = population.person(stranger)
    number = person.calling_code + person.national
    leads = waabot.group_id("Leads")
    response = waabot.post("/contact", {"name": "Banky", "number": number, "group_id": leads})
    assert response.status_code == 201
    body = response.json()
    assert body["status"] is True and body["message"] == "Contact created successfully!"
    created = body["data"]
    assert list(created) == CONTACT_KEYS
    assert (created["name"], created["number"], created["group_id"]) == ("Banky", number, leads)
    assert created["createdAt"] == created["updatedAt"] and ISO_MS.match(created["createdAt"])
    assert created["client_id"] == waabot.groups()[0]["client_id"]
    assert waabot.contacts()[0] == created and waabot.contacts(everyone=False)[0] == created
    assert waabot.get(f"/contact/{created['_id']}").json()["data"] == created
    assert (stranger, created["_id"]) in set(provider.accounts())

    duplicate = waabot.post("/contact", {"name": "Again", "number": number, "group_id": leads})
    assert duplicate.status_code == 400
    assert duplicate.json() == {"status": False, "message": "Contact already exists in this group",
                                "data": None}
    other = waabot.post("/contact", {"name": "B", "number": number,
                                     "group_id": waabot.group_id("Customers")})
    assert other.status_code == 201
    unknown = waabot.post("/contact", {"name": "B", "number": number, "group_id": "0" * 24})
    assert unknown.status_code == 404
    assert unknown.json() == {"status": False, "message": "Contact group not found", "data": None}
    as_integer = waabot.post("/contact", {"name": "C", "number": 2348030000009, "group_id": leads})
    assert as_integer.status_code == 201 and as_integer.json()["data"]["number"] == "2348030000009"
    incomplete = waabot.post("/contact", {"name": "B", "group_id": leads})
    assert incomplete.status_code == 400 and incomplete.json()["status"] is False


def test_generated_numbers_are_taken_in_their_group(waabot: Waabot) -> None:
    record = next(r for r in waabot.contacts(everyone=False))
    response = waabot.post("/contact", {"name": "Copy", "number": record["number"],
                                        "group_id": record["group_id"]})
    assert response.status_code == 400
    assert response.json()["message"] == "Contact already exists in this group"


def test_update_contact(waabot: Waabot) -> None:
    record = waabot.contacts(everyone=False)[-1]
    response = waabot.put(f"/contact/{record['_id']}", {"name": "Renamed"})
    assert response.status_code == 200
    updated = response.json()["data"]
    assert updated["name"] == "Renamed" and updated["createdAt"] == record["createdAt"]
    assert parse_iso_ms(updated["updatedAt"]) > parse_iso_ms(record["updatedAt"])
    assert {k: v for k, v in updated.items() if k not in ("name", "updatedAt")} == \
        {k: v for k, v in record.items() if k not in ("name", "updatedAt")}
    assert waabot.get(f"/contact/{record['_id']}").json()["data"] == updated
    assert updated in waabot.contacts()
    assert waabot.put(f"/contact/{'0' * 24}", {"name": "X"}).status_code == 404
    elsewhere = waabot.put(f"/contact/{record['_id']}", {"group_id": "0" * 24})
    assert elsewhere.status_code == 404 and elsewhere.json()["message"] == "Contact group not found"
    assert waabot.put(f"/contact/{record['_id']}", {"name": ["X"]}).status_code == 400


def test_update_refuses_a_taken_number(waabot: Waabot) -> None:
    mine = waabot.contacts(everyone=False)
    first, second = next((a, b) for a in mine for b in mine
                         if a["group_id"] != b["group_id"] and a["number"] != b["number"])
    clash = waabot.put(f"/contact/{second['_id']}",
                       {"number": first["number"], "group_id": first["group_id"]})
    assert clash.status_code == 400
    assert clash.json()["message"] == "Contact already exists in this group"
    moved = waabot.put(f"/contact/{second['_id']}", {"group_id": first["group_id"]})
    assert moved.status_code == 200 and moved.json()["data"]["group_id"] == first["group_id"]


def test_delete_contact(waabot: Waabot, provider: waabot_api.Waabot) -> None:
    before = provider.counts()["contacts"]
    record = waabot.contacts()[3]
    response = waabot.delete(f"/contact/{record['_id']}")
    assert response.status_code == 200
    assert response.json() == {"status": True, "message": "Contact deleted successfully!",
                               "data": DELETED}
    assert waabot.get(f"/contact/{record['_id']}").status_code == 404
    assert record["_id"] not in {r["_id"] for r in waabot.contacts()}
    assert provider.counts()["contacts"] == before - 1
    assert waabot.delete(f"/contact/{record['_id']}").status_code == 404


@pytest.mark.parametrize("origin", ["generated", "created"])
def test_deleted_numbers_are_free_again(waabot: Waabot, origin: str) -> None:
    if origin == "generated":
        record = waabot.contacts(everyone=False)[0]
    else:
        record = waabot.post("/contact", {"name": "A", "number": "2348030000003",
                                          "group_id": waabot.group_id("Leads")}).json()["data"]
    assert waabot.delete(f"/contact/{record['_id']}").status_code == 200
    again = waabot.post("/contact", {"name": "Back", "number": record["number"],
                                     "group_id": record["group_id"]})
    assert again.status_code == 201


# -- groups ---------------------------------------------------------------------------------
def test_group_listing(waabot: Waabot) -> None:
    groups = waabot.groups()
    assert sorted(g["title"] for g in groups) == ["Customers", "Default", "Leads", "Newsletter"]
    for g in groups:
        assert set(g) == GROUP_KEYS
        assert g["is_default"] is (g["title"] == "Default")
        assert ISO_MS.match(g["createdAt"]) and ISO_MS.match(g["updatedAt"])
    single = waabot.get(f"/contact_groups/{groups[1]['_id']}").json()
    assert single == {"status": True, "message": "ContactGroup group fetched successfully!",
                      "data": groups[1]}
    foreign = {r["group_id"] for r in waabot.contacts()} - {g["_id"] for g in groups}
    assert foreign  # the second client's groups: in records, never served
    for group_id in (*foreign, "0" * 24):
        response = waabot.get(f"/contact_groups/{group_id}")
        assert response.status_code == 404
        assert response.json() == {"status": False, "message": "Contact group not found",
                                   "data": None}


def test_group_create_rename_delete(waabot: Waabot) -> None:
    response = waabot.post("/contact_groups", {"title": "VIP"})
    assert response.status_code == 201
    assert response.json()["message"] == "ContactGroup group created successfully!"
    group = response.json()["data"]
    assert group["title"] == "VIP" and group["is_default"] is False
    assert group in waabot.groups()
    renamed = waabot.put(f"/contact_groups/{group['_id']}", {"title": "VIP 2"}).json()
    assert renamed["message"] == "ContactGroup group updated successfully!"
    assert renamed["data"]["title"] == "VIP 2"
    assert renamed["data"]["createdAt"] == group["createdAt"]
    assert parse_iso_ms(renamed["data"]["updatedAt"]) > parse_iso_ms(group["updatedAt"])
    assert waabot.post("/contact_groups", {"title": ""}).status_code == 400

    member = waabot.post("/contact", {"name": "A", "number": "2348030000001",
                                      "group_id": group["_id"]}).json()["data"]
    deleted = waabot.delete(f"/contact_groups/{group['_id']}")
    assert deleted.status_code == 200
    assert deleted.json() == {"status": True, "message": "ContactGroup group deleted successfully!",
                              "data": DELETED}
    assert waabot.get(f"/contact_groups/{group['_id']}").status_code == 404
    assert waabot.get(f"/contact/{member['_id']}").status_code == 404


def test_deleting_a_generated_group_deletes_its_records(waabot: Waabot) -> None:
    newsletter = waabot.group_id("Newsletter")
    before = waabot.contacts()
    in_group = [r for r in before if r["group_id"] == newsletter]
    assert in_group
    assert waabot.delete(f"/contact_groups/{newsletter}").status_code == 200
    after = waabot.contacts()
    assert after == [r for r in before if r["group_id"] != newsletter]
    assert "Newsletter" not in [g["title"] for g in waabot.groups()]


# -- truth, churn, determinism, faults ------------------------------------------------------
def test_truth_agrees_with_the_api(waabot: Waabot, http: httpx.Client,
                                   provider: waabot_api.Waabot) -> None:
    waabot.post("/contact", {"name": "New", "number": "2348030000002",
                             "group_id": waabot.group_id("Leads")})
    records = waabot.contacts()
    groups = waabot.groups()
    truth = http.get("/_sandbox/truth").json()
    assert truth["counts"]["waabot"] == {"contacts": len(records), "contact_groups": len(groups)}
    expected = {g["title"]: sorted(r["_id"] for r in records if r["group_id"] == g["_id"])
                for g in groups}
    assert {t: sorted(ids) for t, ids in truth["memberships"]["waabot"].items()} == expected
    person_of = dict((cid, person) for person, cid in provider.accounts())
    assert set(person_of) == {r["_id"] for r in records}
    oldest: dict[int, dict] = {}
    for r in reversed(records):  # oldest first
        oldest.setdefault(person_of[r["_id"]], r)
    accounts = {p["person"]: p["accounts"]["waabot"] for p in truth["people"]
                if "waabot" in p["accounts"]}
    assert accounts == {person: r["_id"] for person, r in oldest.items()}


def test_churn(waabot: Waabot, http: httpx.Client) -> None:
    before = {r["_id"]: r for r in waabot.contacts()}
    answer = http.post("/_sandbox/churn",
                       json={"update": 0.1, "create": 0.1, "delete": 0.05, "seed": 3}).json()
    change = answer["waabot"]["contacts"]
    assert all(change[kind] for kind in ("updated", "created", "deleted"))
    after = {r["_id"]: r for r in waabot.contacts()}
    assert set(after) - set(before) == set(change["created"])
    assert set(before) - set(after) == set(change["deleted"])
    changed = {i for i in before.keys() & after.keys() if before[i] != after[i]}
    assert changed == set(change["updated"])
    newest_before = max(parse_iso_ms(r["updatedAt"]) for r in before.values())
    for i in change["updated"]:
        assert after[i]["name"] != before[i]["name"]
        assert parse_iso_ms(after[i]["updatedAt"]) > newest_before
        assert after[i]["createdAt"] == before[i]["createdAt"]
    for i in change["created"]:
        assert parse_iso_ms(after[i]["createdAt"]) > newest_before
    per_group = Counter((r["group_id"], r["number"]) for r in after.values())
    assert max(per_group.values()) == 1


def _listing(seed: int) -> list[dict]:
    with SandboxServer(World(seed=seed, contacts=400)) as server, \
            httpx.Client(base_url=server.url, timeout=30) as http:
        return Waabot(http).contacts()


def test_same_seed_same_data(waabot: Waabot) -> None:
    served = waabot.contacts()
    assert _listing(7) == served
    assert _listing(8) != served


def test_rate_limit_answers_429(waabot: Waabot, http: httpx.Client) -> None:
    assert http.post("/_sandbox/faults", json={"rate_limit": 1}).status_code == 200
    statuses = defaultdict(list)
    for _ in range(5):
        response = waabot.get("/contact_groups")
        statuses[response.status_code].append(response)
    assert 200 in statuses and 429 in statuses
    limited = statuses[429][0]
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.json() == {"status": False, "message": "Too many requests", "data": None}
