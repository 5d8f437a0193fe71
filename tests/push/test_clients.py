"""The five push clients against the sandbox over HTTP (no engine, no sync): targets found or
created, adds and removes as the sandbox's truth shows them, idempotence, rejected members."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from crmsync.kernel.errors import UserError
from crmsync.kernel.push import Member, Outcome, PushClient, PushTarget
from crmsync.sandbox.link import sandbox_environment
from crmsync.sandbox.server import SandboxServer
from crmsync.sources.common.config import provider_settings
from crmsync.sources.common.run import SyncRun

PROVIDERS = ("chatman", "dmchamp", "whautomate", "waabot", "chatrace")
# Where each provider's test segment goes: a name no generated target has.
TARGETS = {
    "chatman": PushTarget("chatman", "segment", "crmsync push test"),
    "dmchamp": PushTarget("dmchamp", "list", "list_spare_1"),  # an empty list of the account
    "whautomate": PushTarget("whautomate", "tag", "crmsync push test"),
    "waabot": PushTarget("waabot", "group", "crmsync push test"),
    "chatrace": PushTarget("chatrace", "tag", "crmsync push test"),
}
# A contact id of the provider's shape that it never issued (Waabot: its members need a phone).
UNKNOWN_CONTACT = {
    "chatman": "00000000-0000-4000-8000-000000000000",
    "dmchamp": "ffffffffffff0000000fffff",
    "whautomate": "ffffffffffff0000000fffff",
    "chatrace": "999999999",
}
# Targets made by people in the CRM: the truth `counts` key of each provider's targets.
TARGET_COUNT = {"chatman": "segments", "waabot": "contact_groups", "chatrace": "tags"}
EXISTING = {"chatman": "Newsletter", "waabot": "Leads", "chatrace": "newsletter"}
N = 6  # members per test


@pytest.fixture()
def connect(sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
            ) -> Iterator[Callable[[str], PushClient]]:
    """A fresh push client per call (as a new run would make), pointed at the test's sandbox."""
    for key, value in sandbox_environment(sandbox.url).items():
        monkeypatch.setenv(key, value)
    runs: list[SyncRun] = []

    def make(provider: str) -> PushClient:
        run = SyncRun(warehouse=tmp_path / "unused.duckdb")
        runs.append(run)
        module = importlib.import_module(f"crmsync.sources.{provider}.push")
        return module.push_client(provider_settings(provider), run)

    yield make
    for run in runs:
        run.close()


def truth(sandbox: SandboxServer) -> dict:
    return httpx.get(f"{sandbox.url}/_sandbox/truth", timeout=60).json()


def writes(sandbox: SandboxServer, provider: str) -> int:
    """Requests the provider answered other than GETs (and Waabot's login)."""
    stats = httpx.get(f"{sandbox.url}/_sandbox/stats", timeout=10).json()["requests"].get(provider, {})
    return sum(n for call, n in stats.items() if not call.startswith("GET ") and call != "POST /sessions")


def requests_to(sandbox: SandboxServer, provider: str, call: str) -> int:
    return httpx.get(f"{sandbox.url}/_sandbox/stats", timeout=10).json()["requests"].get(provider, {}).get(call, 0)


def members(world: dict, provider: str, n: int, known: bool = True) -> list[Member]:
    """`n` people with a phone, known to the provider (their contact id) or not (None)."""
    people = [p for p in world["people"] if p["phone_e164"] and (provider in p["accounts"]) == known]
    assert len(people) >= n, f"the sandbox has too few people for {provider}"
    return [Member(str(p["person"]), p["accounts"].get(provider), p["phone_e164"], p["email"],
                   f"Test Person{p['person']}") for p in people[:n]]


def in_target(sandbox: SandboxServer, provider: str) -> set[str]:
    return set(truth(sandbox)["memberships"][provider].get(TARGETS[provider].name, []))


def all_ok(outcomes: list[Outcome], wanted: list[Member]) -> set[str]:
    """The contacts the outcomes put the members on; fails unless every one is ok."""
    assert [o.person_id for o in outcomes] == [m.person_id for m in wanted]
    assert all(o.status == "ok" and o.error is None for o in outcomes), outcomes
    return {o.record_id for o in outcomes}


def expected_contacts(provider: str, wanted: list[Member], outcomes: list[Outcome]) -> set[str]:
    """What the truth must show: the members' contacts, or (Waabot) the records made."""
    if provider == "waabot":
        return {o.record_id for o in outcomes}
    assert [o.contact_id for o in outcomes] == [m.contact_id for m in wanted]
    return {m.contact_id for m in wanted}


# -- targets ---------------------------------------------------------------------------------
@pytest.mark.parametrize("provider", sorted(TARGET_COUNT))
def test_missing_target_is_created_once_and_only_when_asked(
        provider: str, sandbox: SandboxServer, connect: Callable[[str], PushClient]) -> None:
    before = truth(sandbox)["counts"][provider][TARGET_COUNT[provider]]
    with pytest.raises(UserError, match="does not exist"):
        connect(provider).resolve_target(TARGETS[provider], create=False)
    assert writes(sandbox, provider) == 0
    created = connect(provider).resolve_target(TARGETS[provider], create=True)
    again = connect(provider).resolve_target(TARGETS[provider], create=True)
    assert again == created
    assert connect(provider).resolve_target(TARGETS[provider], create=False) == created
    after = truth(sandbox)
    assert after["counts"][provider][TARGET_COUNT[provider]] == before + 1
    assert TARGETS[provider].name in after["memberships"][provider]


@pytest.mark.parametrize("provider", sorted(EXISTING))
def test_existing_target_is_found_by_exact_name(
        provider: str, sandbox: SandboxServer, connect: Callable[[str], PushClient]) -> None:
    client = connect(provider)
    existing = PushTarget(provider, TARGETS[provider].kind, EXISTING[provider])
    first = client.resolve_target(existing, create=True)
    assert client.resolve_target(existing, create=False) == first
    assert writes(sandbox, provider) == 0
    # A name that is only part of an existing one is another target (search is a substring).
    partial = PushTarget(provider, TARGETS[provider].kind, EXISTING[provider][:4])
    with pytest.raises(UserError):
        client.resolve_target(partial, create=False)
    assert client.resolve_target(partial, create=True) != first


@pytest.mark.parametrize("provider", ["dmchamp", "whautomate"])
def test_targets_needing_no_lookup_answer_their_name(
        provider: str, sandbox: SandboxServer, connect: Callable[[str], PushClient]) -> None:
    assert connect(provider).resolve_target(TARGETS[provider], create=False) == TARGETS[provider].name
    stats = httpx.get(f"{sandbox.url}/_sandbox/stats", timeout=10).json()["requests"]
    assert stats.get(provider, {}) == {}


# -- add / remove ----------------------------------------------------------------------------
@pytest.mark.parametrize("provider", PROVIDERS)
def test_add_remove_round_trip_is_idempotent(
        provider: str, sandbox: SandboxServer, connect: Callable[[str], PushClient]) -> None:
    client = connect(provider)
    target = client.resolve_target(TARGETS[provider], create=True)
    wanted = members(truth(sandbox), provider, N)
    contacts_before = truth(sandbox)["counts"][provider]["contacts"]

    added = client.add(target, wanted)
    records = all_ok(added, wanted)
    assert in_target(sandbox, provider) == expected_contacts(provider, wanted, added)
    if provider == "waabot":  # one new record per member, none elsewhere
        assert truth(sandbox)["counts"]["waabot"]["contacts"] == contacts_before + N
        assert len(records) == N

    # Again, from a new run (the Waabot listing is read afresh): nothing more, same records.
    again = connect(provider).add(target, wanted)
    assert all_ok(again, wanted) == records
    assert in_target(sandbox, provider) == expected_contacts(provider, wanted, added)
    assert truth(sandbox)["counts"][provider]["contacts"] == contacts_before + (N if provider == "waabot" else 0)

    kept = [o.record_id for o in added]
    all_ok(client.remove(target, wanted[:2], kept[:2]), wanted[:2])
    left = expected_contacts(provider, wanted[2:], added[2:])
    assert in_target(sandbox, provider) == left
    all_ok(client.remove(target, wanted, kept), wanted)  # the first two are out already
    assert in_target(sandbox, provider) == set()
    all_ok(client.remove(target, wanted, kept), wanted)
    assert in_target(sandbox, provider) == set()
    assert truth(sandbox)["counts"][provider]["contacts"] == contacts_before


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_rejected_member_does_not_stop_the_others(
        provider: str, sandbox: SandboxServer, connect: Callable[[str], PushClient]) -> None:
    client = connect(provider)
    target = client.resolve_target(TARGETS[provider], create=True)
    good = members(truth(sandbox), provider, N)
    if provider == "waabot":
        bad = [Member("no-phone", None, None, "x@example.com", "No Phone")]
    elif provider == "dmchamp":  # unknown there and no phone to create it with; a stale id
        bad = [Member("no-phone", None, None, "x@example.com", "No Phone"),
               Member("stale", UNKNOWN_CONTACT[provider], "+15550100000", None, None)]
    else:
        bad = [Member("unknown", None, "+15550100000", None, None),
               Member("stale", UNKNOWN_CONTACT[provider], "+15550100001", None, None)]
    mixed = good[:3] + bad + good[3:]
    outcomes = {o.person_id: o for o in client.add(target, mixed)}
    assert {p for p, o in outcomes.items() if o.status == "rejected"} == {m.person_id for m in bad}
    assert all(outcomes[m.person_id].error for m in bad)
    ok = [outcomes[m.person_id] for m in good]
    assert in_target(sandbox, provider) == expected_contacts(provider, good, ok)
    if provider == "chatman":  # one batch; refused whole once, then sent without the stale id
        assert requests_to(sandbox, "chatman", "POST /segments/{segment_id}/subscribe/") == 2


def test_chatman_sends_a_batch_per_call(sandbox: SandboxServer, connect: Callable[[str], PushClient]) -> None:
    client = connect("chatman")
    assert client.batch_size == 1000
    target = client.resolve_target(TARGETS["chatman"], create=True)
    wanted = members(truth(sandbox), "chatman", 50)
    all_ok(client.add(target, wanted), wanted)
    assert requests_to(sandbox, "chatman", "POST /segments/{segment_id}/subscribe/") == 1
    assert in_target(sandbox, "chatman") == {m.contact_id for m in wanted}


# -- DM Champ --------------------------------------------------------------------------------
def test_dmchamp_creates_a_person_it_does_not_know(
        sandbox: SandboxServer, connect: Callable[[str], PushClient]) -> None:
    client = connect("dmchamp")
    target = client.resolve_target(TARGETS["dmchamp"], create=True)
    unknown = members(truth(sandbox), "dmchamp", 2, known=False)
    before = truth(sandbox)["counts"]["dmchamp"]["contacts"]
    created = client.add(target, unknown)
    assert all(o.status == "ok" and o.contact_id for o in created), created
    world = truth(sandbox)
    accounts = {str(p["person"]): p["accounts"].get("dmchamp") for p in world["people"]}
    assert [accounts[m.person_id] for m in unknown] == [o.contact_id for o in created]
    assert world["counts"]["dmchamp"]["contacts"] == before + 2
    assert in_target(sandbox, "dmchamp") == {o.contact_id for o in created}
    # The warehouse does not know them yet (no sync): added again, they are found, not re-made.
    again = connect("dmchamp").add(target, unknown)
    assert [o.contact_id for o in again] == [o.contact_id for o in created]
    assert all(o.status == "ok" for o in again)
    assert truth(sandbox)["counts"]["dmchamp"]["contacts"] == before + 2
    assert in_target(sandbox, "dmchamp") == {o.contact_id for o in created}


def test_dmchamp_unknown_list_is_a_clear_error(
        sandbox: SandboxServer, connect: Callable[[str], PushClient]) -> None:
    client = connect("dmchamp")
    target = client.resolve_target(PushTarget("dmchamp", "list", "list_nope"), create=True)
    world = truth(sandbox)
    for wanted in (members(world, "dmchamp", 1), members(world, "dmchamp", 1, known=False)):
        with pytest.raises(UserError, match="list_nope"):
            client.add(target, wanted)
    with pytest.raises(UserError, match="list_nope"):
        client.remove(target, members(world, "dmchamp", 1), [None])
    assert truth(sandbox)["counts"]["dmchamp"]["contacts"] == world["counts"]["dmchamp"]["contacts"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_faults_and_rate_limits_change_nothing(
        provider: str, sandbox: SandboxServer, connect: Callable[[str], PushClient]) -> None:
    """Injected 5xx and 429s (before the provider acts) are retried: the result is the same."""
    client = connect(provider)
    wanted = members(truth(sandbox), provider, N)
    httpx.post(f"{sandbox.url}/_sandbox/faults", json={"error_rate": 0.3, "rate_limit": 40},
               timeout=10).raise_for_status()
    target = client.resolve_target(TARGETS[provider], create=True)
    added = client.add(target, wanted)
    all_ok(added, wanted)
    all_ok(client.add(target, wanted), wanted)
    statuses = httpx.get(f"{sandbox.url}/_sandbox/stats", timeout=10).json()["statuses"][provider]
    assert any(status in statuses for status in ("500", "502", "503", "429")), statuses
    httpx.post(f"{sandbox.url}/_sandbox/faults", json={"error_rate": 0, "rate_limit": None},
               timeout=10).raise_for_status()
    assert in_target(sandbox, provider) == expected_contacts(provider, wanted, added)
    all_ok(client.remove(target, wanted, [o.record_id for o in added]), wanted)
    assert in_target(sandbox, provider) == set()
