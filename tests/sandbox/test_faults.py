"""The sandbox's faults: each kind set through POST /_sandbox/faults, a share of requests
drawn from a seeded generator, and counted in /_sandbox/stats."""

from __future__ import annotations

import httpx
import pytest

from crmsync.sandbox.faults import Faults
from crmsync.sandbox.server import SandboxServer
from crmsync.sandbox.world import World

WHAUTOMATE = {"x-api-key": "sandbox-whautomate-key"}
CHATMAN = {"Authorization": "Bearer sandbox-chatman-key"}
CONTACTS = "/whautomate/v1/contacts"


def set_faults(http: httpx.Client, **faults: object) -> None:
    http.post("/_sandbox/faults", json=faults).raise_for_status()


def faults_counted(http: httpx.Client) -> dict:
    return http.get("/_sandbox/stats").json().get("faults", {})


def listing(http: httpx.Client) -> httpx.Response:
    return http.get(CONTACTS, headers=WHAUTOMATE, params={"limit": 20})


def test_error_after_commit_answers_5xx_but_the_write_happened(http: httpx.Client) -> None:
    contact = listing(http).json()[0]["id"]
    set_faults(http, commit_error_rate=1.0)
    response = http.post(f"{CONTACTS}/{contact}/tags/add", headers=WHAUTOMATE, json={"tags": ["after-commit"]})
    assert response.status_code in (500, 502, 503)
    assert listing(http).status_code == 200  # reads are not writes: answered as usual
    set_faults(http, commit_error_rate=0.0)
    held = http.get("/_sandbox/truth").json()["memberships"]["whautomate"]
    assert held.get("after-commit") == [contact]
    assert faults_counted(http) == {"whautomate": {"commit_error": 1}}
    assert http.get("/_sandbox/stats").json()["statuses"]["whautomate"] == {"200": 2, str(response.status_code): 1}


def test_dropped_connection_sends_part_of_the_body_then_closes(http: httpx.Client) -> None:
    whole = listing(http)
    set_faults(http, drop_rate=1.0)
    with pytest.raises(httpx.RemoteProtocolError, match=f"expected {len(whole.content)}"):
        listing(http)
    set_faults(http, drop_rate=0.0)
    assert listing(http).content == whole.content
    assert faults_counted(http) == {"whautomate": {"drop": 1}}


def test_truncated_page_is_a_whole_200_whose_json_is_cut_short(http: httpx.Client) -> None:
    whole = listing(http)
    set_faults(http, truncate_rate=1.0)
    cut = listing(http)
    assert cut.status_code == 200 and int(cut.headers["content-length"]) == len(cut.content)
    assert whole.content.startswith(cut.content) and len(cut.content) < len(whole.content)
    with pytest.raises(ValueError):
        cut.json()
    # Writes are answered whole: only pages are cut.
    contact = whole.json()[0]["id"]
    write = http.post(f"{CONTACTS}/{contact}/tags/add", headers=WHAUTOMATE, json={"tags": ["t"]})
    assert write.status_code == 200 and write.json() is not None
    assert faults_counted(http) == {"whautomate": {"truncate": 1}}


def test_slow_responses_outlast_a_shorter_client_timeout(http: httpx.Client) -> None:
    set_faults(http, slow_rate=1.0, slow_ms=600)
    with pytest.raises(httpx.ReadTimeout):
        http.get(CONTACTS, headers=WHAUTOMATE, timeout=0.2)
    set_faults(http, slow_rate=0.0)
    assert http.get(CONTACTS, headers=WHAUTOMATE, timeout=0.2).status_code == 200
    assert faults_counted(http) == {"whautomate": {"slow": 1}}


def test_schema_drift_adds_drops_and_retypes_fields_of_listed_records(http: httpx.Client) -> None:
    before = http.get("/chatman/v1/public-apis/segments/", headers=CHATMAN).json()["results"]
    set_faults(http, drift_add="loyaltyTier", drift_drop="segment_type", drift_retype="user_count")
    after = http.get("/chatman/v1/public-apis/segments/", headers=CHATMAN).json()["results"]
    assert len(after) == len(before) > 0
    for old, new in zip(before, after):
        assert isinstance(new["loyaltyTier"], str) and "segment_type" not in new
        assert new["user_count"] == str(old["user_count"])
        assert {k: v for k, v in new.items() if k not in ("loyaltyTier", "user_count")} == \
            {k: v for k, v in old.items() if k not in ("segment_type", "user_count")}
    set_faults(http, drift_retype="name")  # text becomes an object
    contacts = listing(http).json()
    assert all(isinstance(c["name"], dict) for c in contacts if "name" in c)
    set_faults(http, drift_add=None, drift_drop=None, drift_retype=None)
    assert http.get("/chatman/v1/public-apis/segments/", headers=CHATMAN).json()["results"] == before
    assert faults_counted(http) == {"chatman": {"drift": 1}, "whautomate": {"drift": 1}}


def statuses_under(faults: Faults, requests: int) -> list[int]:
    """The statuses of `requests` writes (tagging one contact) under `faults`."""
    with SandboxServer(World(seed=7, contacts=50), faults) as server, \
            httpx.Client(base_url=server.url, timeout=10) as http:
        contact = listing(http).json()[0]["id"]
        return [http.post(f"{CONTACTS}/{contact}/tags/add", headers=WHAUTOMATE, json={"tags": ["t"]}).status_code
                for _ in range(requests)]


def test_a_fault_hits_its_share_of_requests_the_same_way_for_the_same_seed() -> None:
    one = statuses_under(Faults(commit_error_rate=0.3, seed=3), 100)
    assert one == statuses_under(Faults(commit_error_rate=0.3, seed=3), 100)
    assert one != statuses_under(Faults(commit_error_rate=0.3, seed=4), 100)
    assert 0.15 < sum(s != 200 for s in one) / len(one) < 0.45


def test_admin_lists_every_fault_and_refuses_bad_values(http: httpx.Client) -> None:
    assert set(http.get("/_sandbox/faults").json()) == set(Faults.settings())
    for bad in ({"drop_rate": 2}, {"truncate_rate": -0.1}, {"slow_ms": "x"}, {"drift_add": 5},
                {"drift_drop": ""}, {"error_rate": None}, {"commit_error": 0.1}):
        assert http.post("/_sandbox/faults", json=bad).status_code == 400, bad
    assert http.get("/_sandbox/faults").json() == Faults().as_dict()
