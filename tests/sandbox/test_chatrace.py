"""The Chatrace emulator over real HTTP (CONTRACT.md section 5)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from crmsync.sandbox.clock import BASE_END_MS, sql_time
from crmsync.sandbox.credentials import CHATRACE_TOKEN
from crmsync.sandbox.server import SandboxServer
from crmsync.sandbox.world import World

P = "/chatrace"
FIND = "/contacts/find_by_custom_field"
AUTH = {"X-ACCESS-TOKEN": CHATRACE_TOKEN}
SQL_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
OPPORTUNITY_KEYS = ["id", "contact_id", "title", "description", "value", "status", "priority", "stage",
                    "assigned_admins", "created_at", "created_by", "updated_at", "updated_by"]
CONTACT_KEYS = ["id", "page_id", "first_name", "last_name", "channel", "profile_pic", "locale", "gender",
                "timezone", "last_sent", "last_delivered", "last_seen", "last_interaction",
                "subscribed_date", "subscribed", "tags", "custom_fields", "phone", "email"]
ORDER_KEYS = ["order_id", "page_id", "user_id", "currency", "total", "subtotal", "total_items",
              "coupon_discount", "coupon", "line_items", "contact", "status", "created_at", "updated_at"]


@pytest.fixture()
def api(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    """A client for the Chatrace prefix with the sandbox token."""
    with httpx.Client(base_url=sandbox.url + P, headers=AUTH, timeout=30) as client:
        yield client


def ok(response: httpx.Response) -> dict | list:
    assert response.status_code == 200, response.text
    return response.json()


def assert_error(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == status
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


def pipeline_ids(api: httpx.Client) -> list[int]:
    return [p["id"] for p in ok(api.get("/pipelines/"))["data"]]


def walk(api: httpx.Client, pipeline_id: int, limit: int = 100, **params) -> list[dict]:
    """Every opportunity of a pipeline, page after page until a short page."""
    out, offset = [], 0
    while True:
        page = ok(api.get(f"/pipelines/{pipeline_id}/opportunities",
                          params={"offset": offset, "limit": limit, **params}))["data"]
        out += page
        offset += len(page)
        if len(page) < limit:
            return out


def all_opportunities(api: httpx.Client) -> dict[int, list[dict]]:
    return {pid: walk(api, pid) for pid in pipeline_ids(api)}


def find(api: httpx.Client, field_id: str, value: str) -> list[dict]:
    return ok(api.get(FIND, params={"field_id": field_id, "value": value}))["data"]


def chatrace_accounts(http: httpx.Client) -> dict[int, str]:
    """person index -> contact id, from the sandbox truth."""
    people = ok(http.get("/_sandbox/truth"))["people"]
    return {p["person"]: p["accounts"]["chatrace"] for p in people if "chatrace" in p["accounts"]}


def provider(sandbox: SandboxServer):
    return sandbox.world.providers["chatrace"]


def product_ids(sandbox: SandboxServer) -> list[int]:
    return sorted(provider(sandbox).commerce.products)


# -- auth and errors ------------------------------------------------------------------------
def test_auth(http: httpx.Client, api: httpx.Client) -> None:
    assert_error(http.get(P + "/accounts/me"), 401)
    assert_error(http.get(P + "/accounts/me", headers={"X-ACCESS-TOKEN": "wrong"}), 401)
    assert_error(http.get(P + "/pipelines/", headers={"Authorization": CHATRACE_TOKEN}), 401)
    assert ok(api.get("/accounts/me"))["name"]


def test_error_bodies(api: httpx.Client) -> None:
    assert_error(api.get("/contacts/not-a-number"), 400)
    assert_error(api.get("/contacts/1"), 404)
    assert_error(api.get("/pipelines/1"), 404)
    assert_error(api.get("/no/such/path"), 404)
    listing = f"/pipelines/{pipeline_ids(api)[0]}/opportunities"
    assert_error(api.get(listing, params={"limit": "x"}), 400)
    assert_error(api.get(listing, params={"offset": -1}), 400)


# -- account metadata -----------------------------------------------------------------------
def test_account_metadata(api: httpx.Client, http: httpx.Client) -> None:
    me = ok(api.get("/accounts/me"))
    counts = ok(http.get("/_sandbox/truth"))["counts"]["chatrace"]
    assert me["total_users"] == counts["contacts"] and me["active"] is True
    assert isinstance(me["page_id"], int) and isinstance(me["created"], int)
    admins = ok(api.get("/accounts/admins"))
    assert admins and all(a["full_name"] == f"{a['first_name']} {a['last_name']}" for a in admins)
    flows = ok(api.get("/accounts/flows"))
    assert flows and all(set(f) == {"id", "name"} for f in flows)

    fields = ok(api.get("/accounts/custom_fields"))
    assert len(fields) == counts["custom_fields"]
    first = fields[0]
    assert ok(api.get(f"/accounts/custom_fields/{first['id']}")) == first
    assert ok(api.get(f"/accounts/custom_fields/name/{first['name'].upper()}")) == first
    assert_error(api.get("/accounts/custom_fields/name/nothing_like_this"), 404)
    assert_error(api.get("/accounts/custom_fields/999999"), 404)
    made = ok(api.post("/accounts/custom_fields", json={"name": "shoe_size", "type": 1}))
    assert made["name"] == "shoe_size"
    assert ok(api.get(f"/accounts/custom_fields/{made['id']}"))["type"] == 1
    assert_error(api.post("/accounts/custom_fields", json={"name": "Shoe_Size", "type": 1}), 400)
    assert_error(api.post("/accounts/custom_fields", json={"name": "x", "type": 99}), 400)
    assert_error(api.post("/accounts/custom_fields", content=b"not json"), 400)
    assert ok(http.get("/_sandbox/truth"))["counts"]["chatrace"]["custom_fields"] == len(fields) + 1

    link1 = ok(api.post("/accounts/template/42/generateSingleUseLink"))["link"]
    link2 = ok(api.post("/accounts/template/42/generateSingleUseLink"))["link"]
    assert link1.startswith("https://") and link1 != link2


def test_bot_fields(api: httpx.Client, sandbox: SandboxServer) -> None:
    number = next(f for f in provider(sandbox).bot_fields.values() if f["type"] == 1)
    path = f"/accounts/bot_fields/{number['id']}"
    assert set(ok(api.get(path))) == {"id", "name", "type", "value"}
    assert ok(api.post(path, data={"value": "7500"})) == {"success": True}
    assert ok(api.get(path))["value"] == 7500
    assert_error(api.post(path, data={"value": "lots"}), 400)
    assert_error(api.post(path), 400)
    assert ok(api.delete(path)) == {"success": True}
    assert ok(api.get(path))["value"] is None
    assert_error(api.get("/accounts/bot_fields/1"), 404)


# -- tags -----------------------------------------------------------------------------------
def test_tags(api: httpx.Client, http: httpx.Client) -> None:
    tags = ok(api.get("/accounts/tags"))
    assert tags and all(set(t) == {"id", "name"} for t in tags)
    created = ok(api.post("/accounts/tags", data={"name": "Segment: High value"}))
    tag = {"id": created["id"], "name": "Segment: High value"}
    assert ok(api.get(f"/accounts/tags/{tag['id']}")) == tag
    assert ok(api.get("/accounts/tags/name/segment: high value")) == tag
    assert_error(api.post("/accounts/tags", data={"name": "SEGMENT: HIGH VALUE"}), 400)
    assert_error(api.post("/accounts/tags", data={}), 400)
    assert_error(api.get("/accounts/tags/name/absent"), 404)

    contact_id = next(iter(chatrace_accounts(http).values()))
    for _ in range(2):  # idempotent
        assert ok(api.post(f"/contacts/{contact_id}/tags/{tag['id']}")) == {"success": True}
    assert ok(api.get(f"/contacts/{contact_id}/tags")).count(tag) == 1
    assert ok(http.get("/_sandbox/truth"))["memberships"]["chatrace"][tag["name"]] == [str(contact_id)]
    assert_error(api.post(f"/contacts/{contact_id}/tags/999999"), 404)
    assert_error(api.post(f"/contacts/1/tags/{tag['id']}"), 404)
    for _ in range(2):
        assert ok(api.delete(f"/contacts/{contact_id}/tags/{tag['id']}")) == {"success": True}
    assert tag not in ok(api.get(f"/contacts/{contact_id}/tags"))
    assert ok(http.get("/_sandbox/truth"))["memberships"]["chatrace"][tag["name"]] == []

    ok(api.post(f"/contacts/{contact_id}/tags/{tag['id']}"))
    assert ok(api.delete(f"/accounts/tags/{tag['id']}")) == {"success": True}
    assert_error(api.get(f"/accounts/tags/{tag['id']}"), 404)
    assert tag not in ok(api.get(f"/contacts/{contact_id}/tags"))
    assert tag["name"] not in ok(http.get("/_sandbox/truth"))["memberships"]["chatrace"]


def test_memberships_counts_accounts_agree_with_http(api: httpx.Client, http: httpx.Client) -> None:
    truth = ok(http.get("/_sandbox/truth"))
    accounts = chatrace_accounts(http)
    assert len(accounts) == truth["counts"]["chatrace"]["contacts"]
    seen: dict[str, list[str]] = {t["name"]: [] for t in ok(api.get("/accounts/tags"))}
    for contact_id in accounts.values():
        for tag in ok(api.get(f"/contacts/{contact_id}/tags")):
            seen[tag["name"]].append(str(contact_id))
    assert {name: sorted(ids) for name, ids in seen.items()} == truth["memberships"]["chatrace"]
    assert truth["counts"]["chatrace"]["tags"] == len(seen)
    opportunities = all_opportunities(api)
    counts = truth["counts"]["chatrace"]
    assert counts["opportunities"] == sum(len(o) for o in opportunities.values())
    assert counts["pipelines"] == len(opportunities)
    stages = [ok(api.get(f"/pipelines/{p}/stages"))["data"] for p in opportunities]
    assert counts["stages"] == sum(map(len, stages))
    comments = sum(len(ok(api.get(f"/pipelines/{p}/opportunities/{o['id']}/comments"))["data"])
                   for p, ops in opportunities.items() for o in ops)
    assert counts["opportunity_comments"] == comments
    orders = {ok(api.get(f"/contacts/{c}/cart"))["order_id"] for c in accounts.values()} - {None}
    assert counts["orders"] == len(orders)  # one generated order at most per contact


# -- contacts -------------------------------------------------------------------------------
def test_contact_shape(api: httpx.Client, http: httpx.Client, sandbox: SandboxServer) -> None:
    population = sandbox.world.population
    for person, contact_id in list(chatrace_accounts(http).items())[:40]:
        contact = ok(api.get(f"/contacts/{contact_id}"))
        assert list(contact) == CONTACT_KEYS and contact["id"] == int(contact_id)
        assert SQL_TIME.match(contact["subscribed_date"])
        for key in ("last_sent", "last_delivered", "last_seen", "last_interaction"):
            assert isinstance(contact[key], int) and 0 <= contact[key] < BASE_END_MS // 1000
        assert all(set(t) == {"id", "name"} for t in contact["tags"])
        assert all(set(f) == {"id", "name", "type", "value"} for f in contact["custom_fields"])
        assert ok(api.get(f"/contacts/{contact_id}/custom_fields")) == contact["custom_fields"]
        truth = population.person(person)
        digits = re.sub(r"\D", "", contact["phone"])
        assert digits in (truth.calling_code + truth.national,
                          truth.calling_code + (truth.secondary_national or ""))
        if truth.email:
            assert contact["email"].strip().lower() == truth.email


def test_secondary_phone_rule(api: httpx.Client, http: httpx.Client, sandbox: SandboxServer) -> None:
    population = sandbox.world.population
    checked = 0
    for person, contact_id in chatrace_accounts(http).items():
        truth = population.person(person)
        if truth.secondary_national is None:
            continue
        contact = ok(api.get(f"/contacts/{contact_id}"))
        uses_secondary = bool({"chatman", "whautomate"} & set(population.providers_of(person)))
        national = truth.secondary_national if uses_secondary else truth.national
        assert re.sub(r"\D", "", contact["phone"]) == truth.calling_code + national
        assert contact["email"].strip().lower() == truth.email
        checked += 1
    assert checked


def test_find_by_custom_field(api: httpx.Client, http: httpx.Client) -> None:
    for contact_id in list(chatrace_accounts(http).values())[:30]:
        contact = ok(api.get(f"/contacts/{contact_id}"))
        digits = re.sub(r"\D", "", contact["phone"])
        for shape in (contact["phone"], digits, "+" + digits):
            assert [c["id"] for c in find(api, "phone", shape)] == [contact["id"]]
        if contact["email"]:
            assert find(api, "email", contact["email"].strip().upper()) == [contact]
    assert find(api, "phone", "+999 000") == []
    assert find(api, "email", "nobody@nowhere.test") == []
    assert_error(api.get(FIND, params={"field_id": "phone"}), 400)
    assert_error(api.get(FIND, params={"field_id": "987654", "value": "x"}), 400)


def test_find_by_custom_field_value(api: httpx.Client, http: httpx.Client) -> None:
    contacts = [ok(api.get(f"/contacts/{c}")) for c in chatrace_accounts(http).values()]
    field = next(f for c in contacts for f in c["custom_fields"] if f["type"] == 0)
    expected = {c["id"] for c in contacts
                if any(f["id"] == field["id"] and str(f["value"]).lower() == str(field["value"]).lower()
                       for f in c["custom_fields"])}
    found = find(api, str(field["id"]), str(field["value"]).upper())
    assert {c["id"] for c in found} == expected and len(found) <= 100
    assert [c["id"] for c in found] == sorted(c["id"] for c in found)[::-1]  # newest first
    # A changed value is found under its new value, first, and no longer under the old one.
    target = next(c for c in contacts if c["id"] in expected)
    ok(api.post(f"/contacts/{target['id']}/custom_fields/{field['id']}", data={"value": "Changed"}))
    assert target["id"] not in {c["id"] for c in find(api, str(field["id"]), str(field["value"]))}
    assert [c["id"] for c in find(api, str(field["id"]), "changed")] == [target["id"]]


def test_contact_custom_fields(api: httpx.Client, http: httpx.Client) -> None:
    contact_id = next(iter(chatrace_accounts(http).values()))
    fields = {f["name"]: f for f in ok(api.get("/accounts/custom_fields"))}
    number = next(f for f in fields.values() if f["type"] == 1)
    path = f"/contacts/{contact_id}/custom_fields/{number['id']}"
    assert ok(api.post(path, data={"value": "73"})) == {"success": True}
    assert ok(api.get(path)) == {"id": number["id"], "name": number["name"], "type": 1, "value": 73}
    assert {"id": number["id"], "name": number["name"], "type": 1, "value": 73} in ok(
        api.get(f"/contacts/{contact_id}"))["custom_fields"]
    assert_error(api.post(path, data={"value": "high"}), 400)
    assert ok(api.delete(path)) == {"success": True}
    assert ok(api.get(path))["value"] is None
    assert number["id"] not in [f["id"] for f in ok(api.get(f"/contacts/{contact_id}/custom_fields"))]
    assert_error(api.get(f"/contacts/{contact_id}/custom_fields/999999"), 404)


def test_create_contact(api: httpx.Client, http: httpx.Client) -> None:
    body = {"phone": "+1 (212) 555-0199", "email": "New.Person@Example.com", "first_name": "Nia",
            "last_name": "Stone", "gender": "female",
            "actions": [{"action": "add_tag", "tag_name": "from_api"},
                        {"action": "set_field_value", "field_name": "lead_score", "value": "55"},
                        {"action": "send_flow", "flow_id": ok(api.get("/accounts/flows"))[0]["id"]}]}
    created = ok(api.post("/contacts", json=body))
    assert list(created) == CONTACT_KEYS
    assert (created["first_name"], created["last_name"], created["gender"]) == ("Nia", "Stone", 2)
    assert created["phone"] == body["phone"] and created["email"] == body["email"]
    assert [t["name"] for t in created["tags"]] == ["from_api"]
    assert [f["value"] for f in created["custom_fields"] if f["name"] == "lead_score"] == [55]
    assert ok(api.get(f"/contacts/{created['id']}")) == created
    assert [c["id"] for c in find(api, "phone", "12125550199")] == [created["id"]]
    assert str(created["id"]) in chatrace_accounts(http).values()
    assert ok(http.get("/_sandbox/truth"))["memberships"]["chatrace"]["from_api"] == [str(created["id"])]
    again = ok(api.post("/contacts", json={"phone": "12125550199"}))  # same phone: same contact
    assert again["id"] == created["id"]

    existing = next(c for c in (ok(api.get(f"/contacts/{i}")) for i in chatrace_accounts(http).values())
                    if c["email"])
    assert ok(api.post("/contacts", json={"phone": existing["phone"]}))["id"] == existing["id"]
    twin = ok(api.post("/contacts", json={"phone": "+447400999111", "email": existing["email"].strip()}))
    assert twin["id"] != existing["id"]
    by_email = find(api, "email", existing["email"])
    assert [c["id"] for c in by_email] == [twin["id"], existing["id"]]  # newest first

    assert_error(api.post("/contacts", json={"email": "a@b.c"}), 400)
    assert_error(api.post("/contacts", json={"phone": "+15550001", "actions": [{"action": "x"}]}), 400)
    assert_error(api.post("/contacts", json={"phone": "+12125550777", "actions": [
        {"action": "set_field_value", "field_name": "no_such_field", "value": 1}]}), 400)
    assert find(api, "phone", "+12125550777") == []


def test_sends(api: httpx.Client, http: httpx.Client, sandbox: SandboxServer) -> None:
    contact_id = next(iter(chatrace_accounts(http).values()))
    before = ok(api.get(f"/contacts/{contact_id}"))
    flow = ok(api.get("/accounts/flows"))[0]["id"]
    product = ok(api.get(f"/contacts/{contact_id}/cart"))
    assert ok(api.post(f"/contacts/{contact_id}/send/{flow}")) == {"success": True}
    assert_error(api.post(f"/contacts/{contact_id}/send/1"), 404)
    assert ok(api.post(f"/contacts/{contact_id}/send/text", json={"text": "Hi", "channel": "whatsapp"}))
    assert_error(api.post(f"/contacts/{contact_id}/send/text", json={"channel": "whatsapp"}), 400)
    file = {"url": "https://x.test/a.png", "type": "image"}
    assert ok(api.post(f"/contacts/{contact_id}/send/file", json=file))
    assert_error(api.post(f"/contacts/{contact_id}/send/file", json=dict(file, type="hologram")), 400)
    content = {"messages": [{"message": {"text": "x"}}]}
    assert ok(api.post(f"/contacts/{contact_id}/send_content", json=content))
    assert_error(api.post("/contacts/1/send_content", json={"messages": []}), 404)
    some_product = product_ids(sandbox)[0]
    assert ok(api.post(f"/contacts/{contact_id}/send/products", json={"product_id": [some_product]}))
    assert_error(api.post(f"/contacts/{contact_id}/send/products", json={"product_id": [1]}), 404)
    assert ok(api.get(f"/contacts/{contact_id}")) == before
    assert ok(api.get(f"/contacts/{contact_id}/cart")) == product


# -- pipelines and opportunities ------------------------------------------------------------
def test_pipelines(api: httpx.Client, http: httpx.Client) -> None:
    listed = ok(api.get("/pipelines/"))["data"]
    assert listed and all(set(p) == {"id", "name"} for p in listed)
    assert ok(api.get("/pipelines/", params={"offset": 1, "limit": 1}))["data"] == listed[1:2]
    for pipeline in listed:
        assert ok(api.get(f"/pipelines/{pipeline['id']}")) == pipeline
        stages = ok(api.get(f"/pipelines/{pipeline['id']}/stages"))["data"]
        assert 4 <= len(stages) <= 6 and all(set(s) == {"id", "name"} for s in stages)
        fields = ok(api.get(f"/pipelines/{pipeline['id']}/custom_fields"))
        assert all(set(f) == {"id", "name", "type", "description"} for f in fields)
    assert_error(api.get("/pipelines/123/stages"), 404)


def test_opportunity_paging(api: httpx.Client) -> None:
    for pipeline_id in pipeline_ids(api):
        everything = walk(api, pipeline_id)
        stage_ids = {s["id"] for s in ok(api.get(f"/pipelines/{pipeline_id}/stages"))["data"]}
        ids = [o["id"] for o in everything]
        assert ids == sorted(set(ids))  # ascending, no duplicate
        assert walk(api, pipeline_id, limit=7) == everything  # no gap between pages
        capped = ok(api.get(f"/pipelines/{pipeline_id}/opportunities", params={"limit": 1000}))["data"]
        assert capped == everything[:100]
        for opportunity in everything:
            assert list(opportunity) == OPPORTUNITY_KEYS
            assert SQL_TIME.match(opportunity["created_at"])
            assert SQL_TIME.match(opportunity["updated_at"])
            assert opportunity["created_at"] <= opportunity["updated_at"]
            assert opportunity["status"] in ("open", "won", "lost")
            assert opportunity["priority"] in ("low", "medium", "high")
            assert opportunity["stage"]["id"] in stage_ids
        owners = {o["contact_id"] for o in everything}
        for contact_id in list(owners)[:10]:
            mine = walk(api, pipeline_id, limit=1, contact_id=contact_id)
            assert mine == [o for o in everything if o["contact_id"] == contact_id]
        assert walk(api, pipeline_id, contact_id=1) == []


def test_every_contact_is_reachable(api: httpx.Client, http: httpx.Client,
                                    sandbox: SandboxServer) -> None:
    """People in no listable provider are found through their opportunities."""
    population = sandbox.world.population
    owners = {o["contact_id"] for ops in all_opportunities(api).values() for o in ops}
    lonely = [(p, c) for p, c in chatrace_accounts(http).items()
              if not {"chatman", "whautomate", "waabot"} & set(population.providers_of(p))]
    assert lonely and all(int(c) in owners for _p, c in lonely)
    assert all(ok(api.get(f"/contacts/{c}"))["id"] == c for c in owners)


def test_opportunity_writes(api: httpx.Client, http: httpx.Client) -> None:
    pipeline_id = pipeline_ids(api)[0]
    base = f"/pipelines/{pipeline_id}/opportunities"
    stages = ok(api.get(f"/pipelines/{pipeline_id}/stages"))["data"]
    contact_id = next(iter(chatrace_accounts(http).values()))
    admin = ok(api.get("/accounts/admins"))[1]["id"]
    created = ok(api.post(base, json={"contact_id": str(contact_id), "title": "Bulk order", "value": 300,
                                      "assigned_admins": [admin],
                                      "custom_fields": [{"id": 1, "value": "x"}]}))["data"]
    assert len(created) == 1
    opportunity = created[0]
    assert list(opportunity) == OPPORTUNITY_KEYS
    defaults = (opportunity["stage"], opportunity["status"], opportunity["priority"])
    assert defaults == (stages[0], "open", "low")
    assert opportunity["created_at"] == opportunity["updated_at"]
    assert walk(api, pipeline_id)[-1] == opportunity
    assert opportunity in walk(api, pipeline_id, contact_id=contact_id)
    one = f"{base}/{opportunity['id']}"
    assert ok(api.get(one)) == opportunity

    change = {"stage_id": stages[-1]["id"], "status": "won", "value": 450}
    assert ok(api.post(one, json=change)) == {"success": True}
    updated = ok(api.get(one))
    assert (updated["stage"], updated["status"], updated["value"]) == (stages[-1], "won", 450)
    assert updated["updated_at"] >= opportunity["updated_at"] and updated["title"] == "Bulk order"
    assert_error(api.post(one, json={"status": "maybe"}), 400)
    assert_error(api.post(one, json={"stage_id": 1}), 400)
    assert_error(api.post(one, json={"assigned_admins": [1]}), 400)
    assert_error(api.post(base, json={"contact_id": 1, "title": "x"}), 404)
    assert_error(api.post(base, json={"title": "x"}), 400)
    assert_error(api.get(f"/pipelines/{pipeline_ids(api)[1]}/opportunities/{opportunity['id']}"), 404)

    assert ok(api.delete(one)) == {"success": True}
    assert_error(api.get(one), 404)
    assert_error(api.delete(one), 404)
    assert opportunity["id"] not in [o["id"] for o in walk(api, pipeline_id)]


def test_generated_opportunity_update_moves_updated_at(api: httpx.Client) -> None:
    pipeline_id = pipeline_ids(api)[0]
    first = walk(api, pipeline_id)[0]
    ok(api.post(f"/pipelines/{pipeline_id}/opportunities/{first['id']}", json={"priority": "high"}))
    after = ok(api.get(f"/pipelines/{pipeline_id}/opportunities/{first['id']}"))
    assert after["priority"] == "high" and after["updated_at"] > first["updated_at"]
    assert after["updated_at"] >= sql_time(BASE_END_MS)
    assert walk(api, pipeline_id)[0] == after  # still in id order


def test_comments(api: httpx.Client) -> None:
    pipeline_id = pipeline_ids(api)[0]
    opportunities = walk(api, pipeline_id)
    path, comments = next(
        (p, c) for o in opportunities
        for p in [f"/pipelines/{pipeline_id}/opportunities/{o['id']}/comments"]
        for c in [ok(api.get(p))["data"]] if len(c) >= 2)
    assert all(set(c) == {"id", "data", "created_at", "created_by"} and SQL_TIME.match(c["created_at"])
               for c in comments)
    assert [c["created_at"] for c in comments] == sorted(c["created_at"] for c in comments)
    paged = ok(api.get(path, params={"limit": 1}))["data"]
    paged += ok(api.get(path, params={"offset": 1}))["data"]
    assert paged == comments
    made = ok(api.post(path, json={"content": "Spoke to the customer."}))
    assert made["data"] == "Spoke to the customer." and ok(api.get(path))["data"] == comments + [made]
    assert_error(api.post(path, json={}), 400)
    assert ok(api.delete(f"{path}/{comments[0]['id']}")) == {"success": True}
    assert ok(api.get(path))["data"] == comments[1:] + [made]
    assert_error(api.delete(f"{path}/{comments[0]['id']}"), 404)
    assert_error(api.get(f"/pipelines/{pipeline_id}/opportunities/1/comments"), 404)


# -- commerce -------------------------------------------------------------------------------
def carts(api: httpx.Client, http: httpx.Client) -> list[dict]:
    return [ok(api.get(f"/contacts/{c}/cart")) for c in chatrace_accounts(http).values()]


def test_cart_shape(api: httpx.Client, http: httpx.Client) -> None:
    all_carts = carts(api, http)
    with_order = [c for c in all_carts if c["order_id"] is not None]
    assert with_order and len(with_order) < len(all_carts)
    for cart in with_order:
        assert list(cart) == ORDER_KEYS
        assert cart["subtotal"] == sum(li["price"] * li["amount"] for li in cart["line_items"])
        assert cart["total"] == cart["subtotal"] - cart["coupon_discount"]
        assert cart["total_items"] == sum(li["amount"] for li in cart["line_items"])
        assert cart["status"] in (0, 6, 7, 10, 13) and cart["contact"]["id"] == cart["user_id"]
        assert SQL_TIME.match(cart["created_at"]) and cart["created_at"] <= cart["updated_at"]
        assert ok(api.get(f"/contacts/{cart['user_id']}/order/{cart['order_id']}")) == cart
    empty = next(c for c in all_carts if c["order_id"] is None)
    assert (empty["total"], empty["line_items"]) == (0, [])
    other = next(c for c in with_order if c["user_id"] != with_order[0]["user_id"])
    assert_error(api.get(f"/contacts/{other['user_id']}/order/{with_order[0]['order_id']}"), 404)
    assert_error(api.get(f"/contacts/{other['user_id']}/order/nope"), 404)


def test_order_status_and_pay(api: httpx.Client, http: httpx.Client) -> None:
    all_carts = carts(api, http)
    waiting = next(c for c in all_carts if c.get("status") in (0, 6) and c["total"] > 0)
    path = f"/contacts/{waiting['user_id']}/order/{waiting['order_id']}"
    pay = f"/contacts/{waiting['user_id']}/pay/{waiting['order_id']}"
    assert_error(api.post(pay, data={"amount_received": waiting["total"] - 1}), 400)
    assert_error(api.post(pay), 400)
    assert ok(api.post(pay, data={"amount_received": waiting["total"]})) == {"success": True}
    paid = ok(api.get(path))
    assert paid["status"] == 7 and paid["updated_at"] >= sql_time(BASE_END_MS)
    assert_error(api.post(pay, data={"amount_received": waiting["total"]}), 402)
    assert_error(api.post(path, json={"status": 7}), 402)
    assert_error(api.post(path, json={"status": 3}), 400)
    assert ok(api.post(path, json={"status": 10})) == {"success": True}
    assert ok(api.get(path))["status"] == 10
    assert_error(api.post(path, json={"status": 13}), 400)  # delivered is final
    assert_error(api.post(f"/contacts/{waiting['user_id']}/order/99", json={"status": 7}), 404)
    assert_error(api.post(f"/contacts/{waiting['user_id']}/pay/99", data={"amount_received": 1}), 404)


def test_cart_writes(api: httpx.Client, http: httpx.Client, sandbox: SandboxServer) -> None:
    all_carts = carts(api, http)
    closed = next(c for c in all_carts if c.get("status") in (7, 10, 13))
    contact_id = closed["user_id"]
    product_id, other_id = product_ids(sandbox)[1:3]
    product = ok(api.get(f"/products/{product_id}"))
    added = api.post(f"/contacts/{contact_id}/cart/{product['id']}", data={"quantity": 2})
    assert ok(added) == {"success": True}
    cart = ok(api.get(f"/contacts/{contact_id}/cart"))
    assert cart["order_id"] != closed["order_id"] and cart["status"] == 0
    assert [(li["id"], li["amount"]) for li in cart["line_items"]] == [(product["id"], 2)]
    assert ok(api.get(f"/contacts/{contact_id}/order/{closed['order_id']}")) == closed
    ok(api.post(f"/contacts/{contact_id}/cart/{product['id']}", data={"quantity": 1}))
    assert ok(api.get(f"/contacts/{contact_id}/cart"))["line_items"][0]["amount"] == 3
    assert_error(api.post(f"/contacts/{contact_id}/cart/{product['id']}", data={"quantity": 0}), 400)
    assert_error(api.post(f"/contacts/{contact_id}/cart/1", data={"quantity": 1}), 404)
    assert_error(api.delete(f"/contacts/{contact_id}/cart/{other_id}"), 404)
    assert ok(api.delete(f"/contacts/{contact_id}/cart/{product['id']}")) == {"success": True}
    assert ok(api.get(f"/contacts/{contact_id}/cart"))["line_items"] == []
    ok(api.post(f"/contacts/{contact_id}/cart/{product['id']}", data={"quantity": 1}))
    assert ok(api.delete(f"/contacts/{contact_id}/cart")) == {"success": True}
    emptied = ok(api.get(f"/contacts/{contact_id}/cart"))
    assert (emptied["order_id"], emptied["total"], emptied["line_items"]) == (cart["order_id"], 0, [])
    counts = ok(http.get("/_sandbox/truth"))["counts"]["chatrace"]
    assert counts["orders"] == sum(c["order_id"] is not None for c in all_carts) + 1


def test_products(api: httpx.Client, http: httpx.Client, sandbox: SandboxServer) -> None:
    path = f"/products/{product_ids(sandbox)[0]}"
    product = ok(api.get(path))
    assert set(product) == {"id", "name", "price", "sale_price", "category_id", "category_name", "stock",
                            "short_description", "image", "created_at"}
    changed = api.post(path, json={"stock": 500, "price": 40})
    assert ok(changed) == {"success": True, "updated": True}
    assert ok(api.get(path)) == dict(product, stock=500, price=40)
    assert ok(api.post(path, json={"stock": 500}))["updated"] is False
    assert_error(api.post(path, json={"stock": -1}), 400)
    assert_error(api.get("/products/1"), 404)
    ok(api.post(path, json={"active": False}))
    contact_id = next(iter(chatrace_accounts(http).values()))
    assert_error(api.post(f"/contacts/{contact_id}/cart/{product['id']}", data={"quantity": 1}), 400)


# -- churn, determinism, faults -------------------------------------------------------------
def churn(http: httpx.Client) -> dict:
    """Churn a tenth of everything; Chatrace's part of the answer, checked to be non-empty."""
    shares = {"update": 0.1, "create": 0.1, "delete": 0.1, "seed": 3}
    changes = ok(http.post("/_sandbox/churn", json=shares))["chatrace"]
    for resource in ("contacts", "opportunities", "opportunity_comments", "orders"):
        assert any(changes[resource].values()), resource
    return changes


def test_churn_contacts(api: httpx.Client, http: httpx.Client) -> None:
    before = {int(c): ok(api.get(f"/contacts/{c}")) for c in chatrace_accounts(http).values()}
    changes = churn(http)["contacts"]
    deleted, updated, created = (set(changes[key]) for key in ("deleted", "updated", "created"))
    after = {int(c) for c in chatrace_accounts(http).values()}
    assert after == (set(before) - deleted) | created and created.isdisjoint(before)
    for contact_id in deleted:
        assert_error(api.get(f"/contacts/{contact_id}"), 404)
    for contact_id in after - created:
        contact = ok(api.get(f"/contacts/{contact_id}"))
        if contact_id in updated:
            last = before[contact_id]["last_interaction"]
            assert contact["last_interaction"] >= BASE_END_MS // 1000 > last
        else:
            assert contact == before[contact_id]
    owners = {o["contact_id"] for ops in all_opportunities(api).values() for o in ops}
    assert created <= owners  # new people can be found


def test_churn_opportunities_and_comments(api: httpx.Client, http: httpx.Client) -> None:
    before = {o["id"]: o for ops in all_opportunities(api).values() for o in ops}
    changes = churn(http)
    opportunities, comments = changes["opportunities"], changes["opportunity_comments"]
    listing = all_opportunities(api)
    after = {o["id"]: o for ops in listing.values() for o in ops}
    kept = set(before) - set(opportunities["deleted"])
    assert set(after) == kept | set(opportunities["created"])
    assert set(opportunities["created"]).isdisjoint(before)
    changed = {i for i in kept if after[i] != before[i]}
    assert changed == set(opportunities["updated"])
    now = sql_time(BASE_END_MS)
    assert all(after[i]["updated_at"] >= now for i in changed | set(opportunities["created"]))

    listed = {c["id"] for pipeline_id, ops in listing.items() for o in ops
              for c in ok(api.get(f"/pipelines/{pipeline_id}/opportunities/{o['id']}/comments"))["data"]}
    assert set(comments["created"]) <= listed and listed.isdisjoint(comments["deleted"])
    counts = ok(http.get("/_sandbox/truth"))["counts"]["chatrace"]
    assert counts["opportunity_comments"] == len(listed) and counts["opportunities"] == len(after)


def test_churn_orders(api: httpx.Client, http: httpx.Client) -> None:
    carts_before = {int(c): ok(api.get(f"/contacts/{c}/cart")) for c in chatrace_accounts(http).values()}
    orders_before = ok(http.get("/_sandbox/truth"))["counts"]["chatrace"]["orders"]
    changes = churn(http)
    orders, gone = changes["orders"], set(changes["contacts"]["deleted"])
    now = sql_time(BASE_END_MS)
    for contact_id, cart in carts_before.items():
        if cart["order_id"] is None:
            continue
        if contact_id in gone:  # orders go with their contact
            assert cart["order_id"] in orders["deleted"]
            continue
        order = ok(api.get(f"/contacts/{contact_id}/order/{cart['order_id']}"))
        if cart["order_id"] in orders["updated"]:
            assert order["updated_at"] >= now and order["status"] > cart["status"]
            assert cart["status"] not in (10, 13)
        else:
            del order["contact"], cart["contact"]
            assert order == cart
    accounts = chatrace_accounts(http).values()
    carts_after = {ok(api.get(f"/contacts/{c}/cart"))["order_id"] for c in accounts}
    created = set(orders["created"])
    assert created & carts_after and created.isdisjoint(c["order_id"] for c in carts_before.values())
    counts = ok(http.get("/_sandbox/truth"))["counts"]["chatrace"]
    assert counts["orders"] == orders_before + len(created) - len(orders["deleted"])


def test_determinism(api: httpx.Client) -> None:
    def snapshot(seed: int) -> tuple:
        with SandboxServer(World(seed=seed, contacts=400)) as server, httpx.Client(
                base_url=server.url + P, headers=AUTH) as client:
            pipeline_id = pipeline_ids(client)[0]
            page = ok(client.get(f"/pipelines/{pipeline_id}/opportunities"))["data"]
            contact = ok(client.get(f"/contacts/{page[0]['contact_id']}"))
            cart = ok(client.get(f"/contacts/{page[0]['contact_id']}/cart"))
            return page, contact, cart

    first = snapshot(7)
    assert first == snapshot(7)
    pipeline_id = pipeline_ids(api)[0]
    assert first[0] == ok(api.get(f"/pipelines/{pipeline_id}/opportunities"))["data"]
    assert snapshot(8)[0] != first[0]


def test_rate_limit(api: httpx.Client, http: httpx.Client) -> None:
    ok(http.post("/_sandbox/faults", json={"rate_limit": 2}))
    statuses = [api.get("/accounts/me") for _ in range(8)]
    limited = [r for r in statuses if r.status_code == 429]
    assert limited
    assert_error(limited[0], 429)
    assert int(limited[0].headers["Retry-After"]) >= 1



def test_same_seed_churns_the_same() -> None:
    left, right = (World(seed=7, contacts=400).churn(0.1, 0.1, 0.1, seed=5)["chatrace"] for _ in range(2))
    assert left == right and any(left["opportunities"].values())
