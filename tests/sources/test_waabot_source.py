"""The Waabot source against the sandbox: the one-response listing, client-side incremental,
deletions, groups, access-token renewal, faults, auth."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.requests import Request

from crmsync.sandbox import credentials
from crmsync.sandbox.server import SandboxServer
from crmsync.sources.common.http import ApiClient, RequestFailed, RetryPolicy
from crmsync.sources.common.known_people import known_people
from crmsync.sources.waabot.helpers import Instance
from tests.sources.conftest import SyncOnce, churn, query, set_faults, truth

PREFIX = "/waabot/api/v1"
TABLES = ("contacts", "contact_groups")
INSTANCE = {"session_id": credentials.WAABOT_SESSION_ID,
            "access_token": credentials.WAABOT_INSTANCE_TOKEN}


class Waabot:
    """The sandbox's Waabot API as the tests read and change it (logged in once)."""

    def __init__(self, sandbox: SandboxServer) -> None:
        login = httpx.post(f"{sandbox.url}{PREFIX}/sessions", timeout=30, json={
            "email": credentials.WAABOT_EMAIL, "password": credentials.WAABOT_PASSWORD})
        login.raise_for_status()
        tokens = login.json()["data"]
        self.http = httpx.Client(base_url=sandbox.url + PREFIX, timeout=60, headers={
            "Authorization": f"Bearer {tokens['accessToken']}", "x-refresh": tokens["refreshToken"]})

    def call(self, method: str, path: str, body: dict | None = None, **params: Any) -> Any:
        if method in ("GET", "DELETE"):
            response = self.http.request(method, path, params={**params, **INSTANCE})
        else:
            response = self.http.request(method, path, json={**(body or {}), **INSTANCE})
        response.raise_for_status()
        return response.json()["data"]

    def rows(self) -> dict[str, set[tuple]]:
        """What the sandbox holds now, in the columns the warehouse should show."""
        contacts = self.call("GET", "/contact", type="all")
        groups = self.call("GET", "/contact_groups")
        return {
            "contacts": {(c["_id"], c["name"], c["number"], c["client_id"], c["group_id"],
                          c["createdAt"], c["updatedAt"]) for c in contacts},
            "contact_groups": {(g["_id"], g["title"], g["is_default"], g["client_id"],
                                g["updatedAt"]) for g in groups},
        }


def iso(moment: datetime) -> str:
    utc = moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def warehouse_rows(warehouse: Path) -> dict[str, set[tuple]]:
    live = "WHERE deleted_at IS NULL"
    contacts = query(warehouse, "SELECT id, name, number, client_id, group_id, created_at, "
                                f"updated_at FROM raw_waabot.contacts {live}")
    groups = query(warehouse, "SELECT id, title, is_default, client_id, updated_at "
                              f"FROM raw_waabot.contact_groups {live}")
    return {
        "contacts": {(*r[:5], iso(r[5]), iso(r[6])) for r in contacts},
        "contact_groups": {(*r[:4], iso(r[4])) for r in groups},
    }


def expected_counts(sandbox: SandboxServer) -> dict[str, int]:
    return {t: truth(sandbox)["counts"]["waabot"][t] for t in TABLES}


def live_counts(warehouse: Path) -> dict[str, int]:
    return {t: query(warehouse, f"SELECT count(*) FROM raw_waabot.{t} WHERE deleted_at IS NULL")[0][0]
            for t in TABLES}


def stats(sandbox: SandboxServer) -> dict[str, int]:
    return httpx.get(f"{sandbox.url}/_sandbox/stats", timeout=10).json()["requests"].get("waabot", {})


def reset_stats(sandbox: SandboxServer) -> None:
    httpx.delete(f"{sandbox.url}/_sandbox/stats", timeout=10).raise_for_status()


def test_full_sync_equals_the_sandbox_then_loads_nothing(
        sandbox: SandboxServer, warehouse: Path, sync_once: SyncOnce) -> None:
    first = sync_once("waabot")
    expected = expected_counts(sandbox)
    assert live_counts(warehouse) == expected
    assert first.rows == expected
    sandbox_now = Waabot(sandbox).rows()
    assert warehouse_rows(warehouse) == sandbox_now
    # Junk numbers ("status", "N/A", a template) load exactly as Waabot sent them.
    junk = {row[2] for row in sandbox_now["contacts"] if not re.search(r"\d{8}", row[2])}
    assert junk, "the fixture has no junk number: this check would prove nothing"
    loaded = {r[0] for r in query(warehouse, "SELECT number FROM raw_waabot.contacts")}
    assert junk <= loaded
    second = sync_once("waabot")
    assert second.rows == {}, second.rows
    assert second.deleted == {"contacts": 0, "contact_groups": 0}
    assert second.requests == 3  # login, the contact listing, the groups: nothing else


def test_churn_loads_exactly_the_changes_and_marks_deletions(
        sandbox: SandboxServer, warehouse: Path, sync_once: SyncOnce,
        live_ids: Callable[..., set[str]]) -> None:
    sync_once("waabot")
    api = Waabot(sandbox)
    changes = churn(sandbox, update=0.05, create=0.03, delete=0.03, seed=3)["waabot"]["contacts"]
    # Groups change too: one new, one renamed, one deleted with every record in it.
    groups = {g["title"]: g["_id"] for g in api.call("GET", "/contact_groups")}
    gone_group = groups["Newsletter"]
    in_gone_group = {c["_id"] for c in api.call("GET", "/contact", type="all")
                     if c["group_id"] == gone_group}
    assert in_gone_group
    api.call("POST", "/contact_groups", {"title": "VIP"})
    api.call("PUT", f"/contact_groups/{groups['Leads']}", {"title": "Hot leads"})
    api.call("DELETE", f"/contact_groups/{gone_group}")

    incremental = sync_once("waabot")
    changed = (set(changes["updated"]) | set(changes["created"])) - in_gone_group
    # A record created by the churn and deleted with its group was never loaded.
    deleted = set(changes["deleted"]) | (in_gone_group - set(changes["created"]))
    assert incremental.rows == {"contacts": len(changed), "contact_groups": 2}
    assert incremental.deleted == {"contacts": len(deleted), "contact_groups": 1}
    assert live_ids("raw_waabot.contacts", "id", "deleted_at IS NOT NULL") == deleted
    assert live_ids("raw_waabot.contact_groups", "id", "deleted_at IS NOT NULL") == {gone_group}
    assert warehouse_rows(warehouse) == api.rows()
    assert live_counts(warehouse) == expected_counts(sandbox)
    assert sync_once("waabot").rows == {}


@pytest.mark.slow  # every fault at once in make test: tests/reliability/test_faults_loop.py
def test_faults_do_not_change_the_result(
        sandbox: SandboxServer, warehouse: Path, sync_once: SyncOnce,
        no_duplicates: Callable[[str, str], None], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__WAABOT__REQUESTS_PER_SECOND", "200")  # faster than allowed
    monkeypatch.setenv("SOURCES__WAABOT__CHUNK_SIZE", "7")  # many tables per listing
    set_faults(sandbox, error_rate=0.3, rate_limit=1, latency_ms=5)
    first = sync_once("waabot")
    changes = churn(sandbox, update=0.05, create=0.03, delete=0.03, seed=5)["waabot"]["contacts"]
    second = sync_once("waabot")
    set_faults(sandbox, error_rate=0.0, rate_limit=None, latency_ms=0)
    assert first.retries > 0 and second.retries > 0
    assert second.rows["contacts"] == len(set(changes["updated"]) | set(changes["created"]))
    assert second.deleted["contacts"] == len(changes["deleted"])
    assert live_counts(warehouse) == expected_counts(sandbox)
    assert warehouse_rows(warehouse) == Waabot(sandbox).rows()
    for table in TABLES:
        no_duplicates(f"raw_waabot.{table}", "id")


def test_expired_access_token_is_renewed_without_logging_in_again(
        sandbox: SandboxServer, warehouse: Path, sync_once: SyncOnce,
        monkeypatch: pytest.MonkeyPatch) -> None:
    waabot = sandbox.world.providers["waabot"]
    monkeypatch.setattr(waabot, "access_ttl_s", 1)
    presented: list[tuple[str, str | None]] = []  # (access token sent, fresh one answered)
    check_tokens = waabot._check_tokens

    def recording(request: Request) -> tuple[Any, str | None]:
        denied, fresh = check_tokens(request)
        presented.append((request.headers.get("authorization", "").partition(" ")[2], fresh))
        return denied, fresh

    monkeypatch.setattr(waabot, "_check_tokens", recording)
    reset_stats(sandbox)
    # Every request waits past the 1 s life of the token it carries.
    set_faults(sandbox, latency_ms=1100)
    result = sync_once("waabot")
    set_faults(sandbox, latency_ms=0)
    assert result.rows == expected_counts(sandbox)
    assert stats(sandbox) == {"POST /sessions": 1, "GET /contact": 1, "GET /contact_groups": 1}
    assert len(presented) == 2 and all(fresh for _, fresh in presented)
    # The second request carries the token the first response renewed, not the login's.
    assert presented[1][0] == presented[0][1] != presented[0][0]
    presented.clear()
    second = sync_once("waabot")
    assert second.rows == {}
    assert stats(sandbox)["POST /sessions"] == 2  # once per run


def test_wrong_password_is_one_clear_line(
        sandbox: SandboxServer, warehouse: Path, sync_once: SyncOnce,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__WAABOT__PASSWORD", "not-the-password")
    reset_stats(sandbox)
    result = sync_once("waabot", expect_ok=False)
    assert result.error == ("waabot: the API refused the credentials (401); "
                            "check sources.waabot.email/password")
    assert "not-the-password" not in result.error
    assert stats(sandbox) == {"POST /sessions": 1}  # nothing after the refused login


def test_wrong_instance_credentials_name_them(
        warehouse: Path, sync_once: SyncOnce, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__WAABOT__SESSION_ID", "not-the-session")
    result = sync_once("waabot", expect_ok=False)
    assert result.error == ("waabot: the API refused the credentials (401); "
                            "check sources.waabot.session_id/access_token")
    assert "not-the-session" not in result.error


def test_instance_credentials_placement_is_configurable(
        warehouse: Path, sync_once: SyncOnce, monkeypatch: pytest.MonkeyPatch) -> None:
    # The sandbox follows the contract (query string on GET): sent in a body, they are missing.
    monkeypatch.setenv("SOURCES__WAABOT__INSTANCE_CREDENTIALS_IN", "body")
    assert "session_id/access_token" in sync_once("waabot", expect_ok=False).error
    monkeypatch.setenv("SOURCES__WAABOT__INSTANCE_CREDENTIALS_IN", "header")
    assert "instance_credentials_in" in sync_once("waabot", expect_ok=False).error


def test_known_people_are_the_contacts_numbers(
        sandbox: SandboxServer, warehouse: Path, sync_once: SyncOnce) -> None:
    sync_once("waabot")
    people = truth(sandbox)["people"]
    expected = {p["phone_e164"] for p in people if "waabot" in p["accounts"] and p["phone_e164"]}
    assert expected
    assert {p.phone_e164 for p in known_people(warehouse)} == expected
    assert all(p.email is None for p in known_people(warehouse))


def test_listing_is_streamed_in_chunks_and_a_bad_envelope_still_fails(sandbox: SandboxServer) -> None:
    waabot = Waabot(sandbox)
    whole = waabot.call("GET", "/contact", type="all")
    instance = Instance(credentials.WAABOT_SESSION_ID, credentials.WAABOT_INSTANCE_TOKEN, "query")
    api = ApiClient("waabot", sandbox.url + PREFIX, auth_setting="session_id/access_token",
                    headers=dict(waabot.http.headers))
    chunks = list(instance.chunks(api, "/contact", {"type": "all"}, 7))
    assert [len(c) for c in chunks[:-1]] == [7] * (len(chunks) - 1) and 0 < len(chunks[-1]) <= 7
    assert [r for c in chunks for r in c] == whole

    bodies = {"refused": b'{"status": false, "message": "Instance not connected", "data": null}',
              "empty": b'{"status": true, "message": "ok", "data": []}',
              "cut": b'{"status": true, "message": "ok", "data": [{"_id": "a"}, {"_id": "b", "na'}
    api._http = httpx.Client(base_url="http://waabot.invalid", transport=httpx.MockTransport(
        lambda request: httpx.Response(200, content=bodies[request.url.path.strip("/")])))
    with pytest.raises(RequestFailed, match="Instance not connected"):
        list(instance.chunks(api, "/refused", None, 7))
    assert list(instance.chunks(api, "/empty", None, 7)) == []
    api.retry = RetryPolicy(attempts=3, backoff_s=0)
    sent = api.requests
    with pytest.raises(RequestFailed, match="kept answering incomplete JSON"):
        list(instance.chunks(api, "/cut", None, 7))
    assert api.requests - sent == 3  # read again each time, then given up
