"""Drift against the sandbox over HTTP: a person changes a target in the CRM (through the
provider's API with the sandbox credentials, or /_sandbox/<provider>/ where the API has no such
call), the next sync reads it, and the push repairs (or reports) only what crmsync had added,
never what people made by hand. Each dry run announces exactly what the real run then does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
from crmsync.kernel.errors import UserError
from crmsync.pipelines.push import PushResult, push
from crmsync.pipelines.sync import sync
from crmsync.sandbox.link import sandbox_environment
from crmsync.sandbox.server import SandboxServer
from crmsync.sandbox.world import World
from crmsync.transforms.runner import DEFAULT_ROOT, run_transforms
from crmsync.transforms.segments import load_segments
from typer.testing import CliRunner

from crmsync.cli import app
from tests.sources import conftest as sources_fixtures
from tests.sources.conftest import truth

warehouse = sources_fixtures.warehouse  # a temp warehouse, providers pointed at `sandbox`
SEGMENT = "high_value_customers"
TARGETS = {p: t.name for s in load_segments(DEFAULT_ROOT / "segments") if s.name == SEGMENT
           for p, t in s.push.items()}
SEEN = ("chatman", "whautomate", "waabot", "chatrace")  # the providers whose targets a sync reads
FIGURES = ("added", "removed", "restored", "resent", "held", "gone", "drift", "by_hand", "rejected")


@pytest.fixture()
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxServer]:
    monkeypatch.setenv("SOURCES__CHATMAN__FULL_SCAN_HOURS", "0")  # deletions seen at once
    with SandboxServer(World(seed=7, contacts=100)) as server:
        yield server


class Person:
    """Someone using the CRMs' apps: each call is one the provider's API (or, where it has
    none, the sandbox's admin route for that provider) offers with the sandbox credentials."""

    def __init__(self, sandbox: SandboxServer) -> None:
        self.url = sandbox.url
        self.env = sandbox_environment(sandbox.url)

    def base(self, provider: str) -> str:
        return self.env[f"SOURCES__{provider.upper()}__BASE_URL"]

    def chatman(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.env['SOURCES__CHATMAN__API_KEY']}"}
        response = httpx.request(method, self.base("chatman") + path, headers=headers, timeout=10, **kwargs)
        response.raise_for_status()
        return response

    def chatman_admin(self, path: str) -> None:
        headers = {"Authorization": f"Bearer {self.env['SOURCES__CHATMAN__API_KEY']}"}
        httpx.delete(f"{self.url}/_sandbox/chatman{path}", headers=headers, timeout=10).raise_for_status()

    def chatman_segment(self, name: str) -> str:
        found = self.chatman("GET", "/segments/", params={"search_key": name}).json()["results"]
        return next(s["segment_id"] for s in found if s["segment_name"] == name)

    def whautomate_untag(self, contact: str, tag: str) -> None:
        httpx.post(f"{self.base('whautomate')}/contacts/{contact}/tags/remove", json={"tags": [tag]},
                   headers={"x-api-key": self.env["SOURCES__WHAUTOMATE__API_KEY"]}, timeout=10).raise_for_status()

    def chatrace(self, method: str, path: str) -> httpx.Response:
        response = httpx.request(method, self.base("chatrace") + path, timeout=10,
                                 headers={"X-ACCESS-TOKEN": self.env["SOURCES__CHATRACE__ACCESS_TOKEN"]})
        response.raise_for_status()
        return response

    def waabot(self, method: str, path: str, **body: Any) -> httpx.Response:
        login = httpx.post(f"{self.base('waabot')}/sessions", timeout=10, json={
            "email": self.env["SOURCES__WAABOT__EMAIL"], "password": self.env["SOURCES__WAABOT__PASSWORD"]})
        tokens = login.raise_for_status().json()["data"]
        instance = {"session_id": self.env["SOURCES__WAABOT__SESSION_ID"],
                    "access_token": self.env["SOURCES__WAABOT__ACCESS_TOKEN"]}
        # The instance credentials: in the query string on GET and DELETE, else in the body.
        where = {"params": instance} if method in ("GET", "DELETE") else {"json": {**body, **instance}}
        response = httpx.request(method, self.base("waabot") + path, timeout=10, **where,
                                 headers={"Authorization": f"Bearer {tokens['accessToken']}",
                                          "x-refresh": tokens["refreshToken"]})
        response.raise_for_status()
        return response

    def dmchamp_unlist(self, contact: str, list_id: str) -> None:
        httpx.request("DELETE", f"{self.base('dmchamp')}/contacts/lists", timeout=10,
                      params={"apiKey": self.env["SOURCES__DMCHAMP__API_KEY"]},
                      json={"contactId": contact, "listId": list_id}).raise_for_status()


def build(warehouse: Path) -> None:
    results = sync(None, warehouse)
    assert all(r.status == "ok" for r in results.values()), {p: r.error for p, r in results.items()}
    assert run_transforms(warehouse, DEFAULT_ROOT).status == "ok"


def in_target(sandbox: SandboxServer, provider: str) -> set[str]:
    return set(truth(sandbox)["memberships"][provider].get(TARGETS[provider], []))


def state(warehouse: Path, provider: str) -> set[str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {m for (m,) in con.execute("SELECT coalesce(record_id, contact_id) FROM ops.push_state "
                                          "WHERE provider = ? AND segment = ?", [provider, SEGMENT]).fetchall()}


def figures(result: PushResult) -> dict[str, dict[str, int]]:
    return {p: {k: getattr(t, k) for k in FIGURES} for p, t in result.segments[SEGMENT].items()}


def dry_then_real(warehouse: Path, **options: Any) -> PushResult:
    """A dry run, then the real push on the same state: the same figures per target."""
    planned = push(warehouse, segments=[SEGMENT], dry_run=True, **options)
    done = push(warehouse, segments=[SEGMENT], **options)
    assert done.status == "ok", {p: t.error for p, t in done.segments[SEGMENT].items()}
    assert figures(planned) == figures(done)
    return done


def test_drift_is_restored_and_announced_by_the_dry_run(sandbox: SandboxServer, warehouse: Path) -> None:
    build(warehouse)
    first = dry_then_real(warehouse)
    assert all(t.added > 0 and t.restored == t.drift == 0 for t in first.segments[SEGMENT].values())
    person = Person(sandbox)
    # Someone takes one membership crmsync added out of each target, in the CRM.
    taken = {p: sorted(state(warehouse, p))[0] for p in SEEN}
    person.chatman("POST", f"/segments/{person.chatman_segment(TARGETS['chatman'])}/unsubscribe/",
                   json={"user_ids": [taken["chatman"]]})
    person.whautomate_untag(taken["whautomate"], TARGETS["whautomate"])
    tag = person.chatrace("GET", f"/accounts/tags/name/{TARGETS['chatrace']}").json()["id"]
    person.chatrace("DELETE", f"/contacts/{taken['chatrace']}/tags/{tag}")
    other = person.waabot("POST", "/contact_groups", title="Moved by hand").json()["data"]["_id"]
    person.waabot("PUT", f"/contact/{taken['waabot']}", group_id=other)  # out of ours, the record lives on
    assert all(taken[p] not in in_target(sandbox, p) for p in SEEN)
    # Before a sync has read it, nothing is known: nothing is done.
    assert all(t.drift == t.added == 0 for t in dry_then_real(warehouse).segments[SEGMENT].values())

    build(warehouse)
    repaired = dry_then_real(warehouse)
    for provider in SEEN:
        target = repaired.segments[SEGMENT][provider]
        assert (target.drift, target.restored, target.added, target.removed) == (1, 1, 1, 0), (provider, target)
        assert state(warehouse, provider) == in_target(sandbox, provider)
    back = {p: in_target(sandbox, p) for p in SEEN}
    assert {taken[p] for p in ("chatman", "whautomate", "chatrace")} <= set().union(*back.values())
    with duckdb.connect(str(warehouse), read_only=True) as con:
        logged = con.execute("SELECT provider, count(*) FROM ops.push_log WHERE operation = 'restore' "
                             "AND status = 'ok' GROUP BY ALL").fetchall()
    assert dict(logged) == dict.fromkeys(SEEN, 1)
    # The restored memberships are crmsync's again: the next push has nothing to do.
    again = dry_then_real(warehouse)
    assert all(t.added == t.drift == t.removed == 0 for t in again.segments[SEGMENT].values())


@pytest.mark.slow  # drift restore in make test: test_drift_is_restored_and_announced_by_the_dry_run
def test_on_drift_report_counts_and_logs_without_writing(sandbox: SandboxServer, warehouse: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    build(warehouse)
    dry_then_real(warehouse, providers=["whautomate"])
    person = Person(sandbox)
    contact = sorted(state(warehouse, "whautomate"))[0]
    person.whautomate_untag(contact, TARGETS["whautomate"])
    build(warehouse)
    monkeypatch.setenv("PUSH__ON_DRIFT", "sometimes")
    with pytest.raises(UserError, match="push.on_drift must be 'restore' or 'report'"):
        push(warehouse, segments=[SEGMENT], providers=["whautomate"])
    monkeypatch.setenv("PUSH__ON_DRIFT", "report")
    reported = dry_then_real(warehouse, providers=["whautomate"]).segments[SEGMENT]["whautomate"]
    assert (reported.drift, reported.restored, reported.added) == (1, 0, 0)
    assert contact not in in_target(sandbox, "whautomate") and contact in state(warehouse, "whautomate")
    monkeypatch.setenv("PUSH__ON_DRIFT", "restore")
    restored = dry_then_real(warehouse, providers=["whautomate"]).segments[SEGMENT]["whautomate"]
    assert (restored.drift, restored.restored) == (1, 1) and contact in in_target(sandbox, "whautomate")


@pytest.mark.slow  # drift restore in make test: test_drift_is_restored_and_announced_by_the_dry_run
def test_a_deleted_target_is_found_and_refilled(sandbox: SandboxServer, warehouse: Path) -> None:
    build(warehouse)
    first = dry_then_real(warehouse, providers=["chatman", "chatrace"])
    person = Person(sandbox)
    old = person.chatman_segment(TARGETS["chatman"])
    person.chatman_admin(f"/segments/{old}/")
    tag = person.chatrace("GET", f"/accounts/tags/name/{TARGETS['chatrace']}").json()["id"]
    person.chatrace("DELETE", f"/accounts/tags/{tag}")
    assert not in_target(sandbox, "chatman") and not in_target(sandbox, "chatrace")
    # Found before any sync: the target's id is gone (the dry run cannot create it).
    refilled = dry_then_real(warehouse, providers=["chatman", "chatrace"])
    for provider, target in refilled.segments[SEGMENT].items():
        added = first.segments[SEGMENT][provider].added
        assert (target.drift, target.restored, target.added) == (added, added, added), (provider, target)
        assert in_target(sandbox, provider) == state(warehouse, provider) and len(state(warehouse, provider)) == added
    assert person.chatman_segment(TARGETS["chatman"]) != old


@pytest.mark.slow  # make test is at its ten minutes; drift restore and provenance stay in it
def test_hand_made_members_are_not_counted_nor_removed(sandbox: SandboxServer, warehouse: Path) -> None:
    build(warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        members = [c for (c,) in con.execute(
            "SELECT min(c.contact_id) FROM crm.segment_members AS m JOIN crm.contacts AS c USING (person_id) "
            "WHERE m.segment = ? AND c.provider = 'chatman' AND c.deleted_at IS NULL GROUP BY m.person_id "
            "ORDER BY 1", [SEGMENT]).fetchall()]
        outsider = con.execute(
            "SELECT min(contact_id) FROM crm.contacts WHERE provider = 'chatman' AND deleted_at IS NULL "
            "AND person_id NOT IN (SELECT person_id FROM crm.segment_members)").fetchone()[0]
    hand_made = members[:3] + [outsider]
    # The target exists already, made by hand with three of the segment's members and one other.
    Person(sandbox).chatman("POST", "/segments/", json={"segment_name": TARGETS["chatman"],
                                                        "users": [{"user_id": u} for u in hand_made]})
    build(warehouse)
    shown = CliRunner().invoke(app, ["push", "--dry-run", "--json", "--warehouse", str(warehouse), "--segment",
                                     SEGMENT, "--provider", "chatman"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["segments"][SEGMENT]["chatman"]["by_hand"] == 4
    taken_over = dry_then_real(warehouse, providers=["chatman"]).segments[SEGMENT]["chatman"]
    assert (taken_over.added, taken_over.by_hand) == (len(members) - 3, 4)
    assert state(warehouse, "chatman") == set(members[3:])
    assert in_target(sandbox, "chatman") == set(members) | {outsider}
    # Everyone leaves the segment: only what crmsync added is removed.
    with duckdb.connect(str(warehouse)) as con:
        con.execute("DELETE FROM crm.segment_members WHERE segment = ?", [SEGMENT])
    emptied = dry_then_real(warehouse, providers=["chatman"], allow_mass_removal=True).segments[SEGMENT]["chatman"]
    assert emptied.removed == len(members) - 3
    assert in_target(sandbox, "chatman") == set(hand_made)


@pytest.mark.slow  # drift restore in make test: test_drift_is_restored_and_announced_by_the_dry_run
def test_full_resync_sends_again_what_cannot_be_read(sandbox: SandboxServer, warehouse: Path) -> None:
    build(warehouse)
    first = dry_then_real(warehouse, providers=["dmchamp"]).segments[SEGMENT]["dmchamp"]
    contact = sorted(state(warehouse, "dmchamp"))[0]
    Person(sandbox).dmchamp_unlist(contact, TARGETS["dmchamp"])
    build(warehouse)
    # DM Champ lists cannot be read: the normal push cannot see the drift.
    unseen = dry_then_real(warehouse, providers=["dmchamp"]).segments[SEGMENT]["dmchamp"]
    assert (unseen.drift, unseen.added, unseen.resent) == (0, 0, 0)
    assert contact not in in_target(sandbox, "dmchamp")
    resync = dry_then_real(warehouse, providers=["dmchamp"], full_resync=True).segments[SEGMENT]["dmchamp"]
    assert (resync.resent, resync.added, resync.removed) == (first.added, 0, 0)
    assert in_target(sandbox, "dmchamp") == state(warehouse, "dmchamp") and contact in state(warehouse, "dmchamp")


def test_a_membership_a_killed_push_made_is_recorded_as_crmsyncs_not_taken_for_hand_made(
        sandbox: SandboxServer, warehouse: Path) -> None:
    """Killed after the provider made the memberships and before their state rows were
    written: the intents written ahead of the calls tell the next push they are crmsync's."""
    build(warehouse)
    assert push(warehouse, segments=[SEGMENT]).status == "ok"
    made = {p: state(warehouse, p) for p in SEEN}
    with duckdb.connect(str(warehouse)) as con:  # what a SIGKILL between the call and its record leaves
        con.execute("INSERT INTO ops.push_intents SELECT provider, segment, person_id, 'killed', now() "
                    "FROM ops.push_state WHERE segment = ?", [SEGMENT])
        con.execute("DELETE FROM ops.push_state WHERE segment = ?", [SEGMENT])
    build(warehouse)  # the sync reads the memberships the "killed" push made
    again = dry_then_real(warehouse)
    for provider in SEEN:
        target = again.segments[SEGMENT][provider]
        assert target.by_hand == 0 and target.added == len(made[provider]), (provider, target)
        assert state(warehouse, provider) == made[provider] == in_target(sandbox, provider)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM ops.push_intents").fetchone() == (0,)
