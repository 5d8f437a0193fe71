"""Push against the sandbox over HTTP: sync, transform, push, then the providers' memberships
(/_sandbox/truth) equal the segments, for every provider and segment target.

"Equal": for each target, the memberships the sandbox holds are exactly the ones crmsync's
state says it made (plus any made by hand), one per person, and the people are exactly the
segment's members the provider can hold (a live contact there; DM Champ and Waabot: or a
phone, since the push creates the contact or record), each on one of their live contacts
(or on one the push created, which the warehouse learns at the next sync).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import duckdb
import httpx
import pytest
from crmsync.pipelines.push import PushResult, push
from crmsync.pipelines.sync import sync
from crmsync.sandbox.link import sandbox_environment
from crmsync.sandbox.server import SandboxServer
from crmsync.sandbox.world import World
from crmsync.sources import registry
from crmsync.transforms.runner import DEFAULT_ROOT, run_transforms
from crmsync.transforms.segments import load_segments
from typer.testing import CliRunner

from crmsync.cli import app
from tests.sources import conftest as sources_fixtures
from tests.sources.conftest import churn, set_faults, truth

PEOPLE = 100
warehouse = sources_fixtures.warehouse  # a temp warehouse, providers pointed at `sandbox`
SEGMENTS = load_segments(DEFAULT_ROOT / "segments")
TARGETS = [(s.name, p, t.name) for s in SEGMENTS for p, t in s.push.items()]


@pytest.fixture()
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxServer]:
    """A smaller population than the shared fixture's: every test here syncs and pushes it
    more than once. The syncs notice every deletion at once (Chatman: a full scan each run;
    DM Champ: everyone looked up again, so the contacts the push created are known, then
    their deletion), so the warehouse knows what churn deleted."""
    monkeypatch.setenv("SOURCES__CHATMAN__FULL_SCAN_HOURS", "0")
    monkeypatch.setenv("SOURCES__DMCHAMP__RECHECK_MISSING_HOURS", "0")
    with SandboxServer(World(seed=7, contacts=PEOPLE)) as server:
        yield server


def rows(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def build(warehouse: Path) -> None:
    """Sync every provider and transform, as `crmsync sync` and `crmsync transform` do."""
    results = sync(None, warehouse)
    assert all(r.status == "ok" for r in results.values()), {p: r.error for p, r in results.items()}
    assert run_transforms(warehouse, DEFAULT_ROOT).status == "ok"


def memberships(sandbox: SandboxServer) -> dict[tuple[str, str], set[str]]:
    """(provider, target name) -> ids in it, for every push target."""
    held = truth(sandbox)["memberships"]
    return {(p, name): set(held[p].get(name, [])) for _, p, name in TARGETS}


def writes(sandbox: SandboxServer) -> Counter:
    """Write calls per provider since the last reset: every non-GET request but Waabot's login."""
    stats = httpx.get(f"{sandbox.url}/_sandbox/stats", timeout=10).json()["requests"]
    return Counter({p: sum(n for call, n in calls.items() if not call.startswith("GET ") and call != "POST /sessions")
                    for p, calls in stats.items()})


def reset_stats(sandbox: SandboxServer) -> None:
    httpx.delete(f"{sandbox.url}/_sandbox/stats", timeout=10).raise_for_status()


def pushed(warehouse: Path, **options: object) -> PushResult:
    result = push(warehouse, **options)
    assert result.status == "ok", {(s, p): t.error for s, ts in result.segments.items() for p, t in ts.items()
                                   if t.error}
    return result


def assert_equal(sandbox: SandboxServer, warehouse: Path, others: dict[str, set[str]] | None = None) -> None:
    """Every target holds exactly what the state says crmsync made, but for contacts others
    changed by hand (`others`: provider -> contact or record ids), and the state holds exactly
    the segment's members, once each, on their own contacts."""
    now = memberships(sandbox)
    for segment, provider, name in TARGETS:
        state = rows(warehouse, "SELECT person_id, coalesce(record_id, contact_id) FROM ops.push_state "
                                "WHERE provider = ? AND segment = ?", [provider, segment])
        differ = now[(provider, name)] ^ {m for _, m in state}
        assert differ <= (others or {}).get(provider, set()), (segment, provider, differ)
        people = [p for p, _ in state]
        assert len(people) == len(set(people)), f"{segment} {provider}: a person twice (a duplicate record)"
        assert set(people) == members(warehouse, segment, provider), (segment, provider)
        assert foreign(warehouse, segment, provider) == [], (segment, provider)


def members(warehouse: Path, segment: str, provider: str) -> set[str]:
    """The segment's members the provider can hold."""
    return {r[0] for r in rows(warehouse, """
        SELECT m.person_id FROM crm.segment_members AS m LEFT JOIN crm.people AS p USING (person_id)
        WHERE m.segment = ? AND (EXISTS (SELECT 1 FROM crm.contacts AS c WHERE c.person_id = m.person_id
                                         AND c.provider = ? AND c.deleted_at IS NULL)
                                 OR (? AND p.phone_e164 IS NOT NULL))""",
        [segment, provider, registry.provider(provider).push.creates_contacts])}


def foreign(warehouse: Path, segment: str, provider: str) -> list[tuple]:
    """State memberships on a contact the warehouse knows but that is not a live contact of
    the state's person."""
    return rows(warehouse, """
        SELECT s.person_id, coalesce(s.record_id, s.contact_id) AS carrier FROM ops.push_state AS s
        WHERE s.provider = ? AND s.segment = ?
          AND EXISTS (SELECT 1 FROM crm.contacts AS c WHERE c.provider = s.provider
                      AND c.contact_id = coalesce(s.record_id, s.contact_id))
          AND NOT EXISTS (SELECT 1 FROM crm.contacts AS c WHERE c.provider = s.provider
                          AND c.contact_id = coalesce(s.record_id, s.contact_id)
                          AND c.person_id = s.person_id AND c.deleted_at IS NULL)""", [provider, segment])


def changed(before: dict, after: dict) -> tuple[int, int]:
    return (sum(len(after[k] - before[k]) for k in after), sum(len(before[k] - after[k]) for k in after))


def hand_add(sandbox: SandboxServer, warehouse: Path) -> dict[tuple[str, str], str]:
    """Put a contact outside the segment into a Whautomate tag and a DM Champ list by hand,
    as a person in the CRM would."""
    env = sandbox_environment(sandbox.url)
    segment, = [s for s in SEGMENTS if s.name == "high_value_customers"]
    made = {}
    for provider in ("whautomate", "dmchamp"):
        contact, = rows(warehouse, """
            SELECT min(contact_id) FROM crm.contacts WHERE provider = ? AND deleted_at IS NULL
              AND person_id NOT IN (SELECT person_id FROM crm.segment_members)""", [provider])[0]
        base, key = env[f"SOURCES__{provider.upper()}__BASE_URL"], env[f"SOURCES__{provider.upper()}__API_KEY"]
        name = segment.push[provider].name
        if provider == "whautomate":
            response = httpx.post(f"{base}/contacts/{contact}/tags/add", json={"tags": [name]},
                                  headers={"x-api-key": key}, timeout=10)
        else:
            response = httpx.post(f"{base}/contacts/lists", params={"apiKey": key},
                                  json={"contactId": contact, "listId": name}, timeout=10)
        response.raise_for_status()
        made[(provider, name)] = contact
    return made


def made_by_others(hand: dict[tuple[str, str], str], churned: dict | None = None) -> dict[str, set[str]]:
    """Contacts whose memberships people changed by hand: the hand-made ones, churn's new
    records (a new Waabot record lands in one of the account's groups, ours included) and
    Chatrace contacts churn updated (an admin toggles a tag, ours included)."""
    others: dict[str, set[str]] = {}
    for (provider, _), contact in hand.items():
        others.setdefault(provider, set()).add(contact)
    for provider, tables in (churned or {}).items():
        contacts = tables.get("contacts", {})
        touched = contacts.get("created", []) + (contacts.get("updated", []) if provider == "chatrace" else [])
        others.setdefault(provider, set()).update(map(str, touched))
    return others


def assert_kept(sandbox: SandboxServer, hand: dict[tuple[str, str], str]) -> None:
    now = memberships(sandbox)
    assert all(contact in now[target] for target, contact in hand.items()), "a hand-made membership was removed"


@pytest.mark.slow  # ~60 s; tests/reliability/test_faults_loop.py pushes the whole loop in make test
def test_push_equals_segments_diffs_and_keeps_hand_made(sandbox: SandboxServer, warehouse: Path) -> None:
    build(warehouse)
    before = memberships(sandbox)
    first = pushed(warehouse)
    assert_equal(sandbox, warehouse)
    assert sum(t.added for t in first.targets()) == changed(before, memberships(sandbox))[0] > 0

    hand = hand_add(sandbox, warehouse)
    others = made_by_others(hand)
    reset_stats(sandbox)
    again = pushed(warehouse)
    assert writes(sandbox) == Counter() and sum(t.added + t.removed for t in again.targets()) == 0
    assert_equal(sandbox, warehouse, others)

    # The next sync learns the contacts and records the push created; the segments follow.
    build(warehouse)
    pushed(warehouse, allow_mass_removal=True)
    assert_equal(sandbox, warehouse, others)

    others = made_by_others(hand, churn(sandbox, update=0.1, create=0.05, delete=0.05))
    build(warehouse)
    before = memberships(sandbox)
    reset_stats(sandbox)
    result = pushed(warehouse, allow_mass_removal=True)
    assert_equal(sandbox, warehouse, others)
    added, removed = changed(before, memberships(sandbox))
    assert (added, removed) == (sum(t.added for t in result.targets()), sum(t.removed for t in result.targets()))
    # Only the differences were written: no call without a change behind it (DM Champ may
    # create a contact and then list it: two calls for one add).
    assert 0 < sum(writes(sandbox).values()) <= 2 * (added + removed) + len(TARGETS)
    reset_stats(sandbox)
    pushed(warehouse)
    assert writes(sandbox) == Counter()
    assert_kept(sandbox, hand)


@pytest.mark.slow  # the guard in make test: tests/push/test_engine.py test_mass_removal_is_held_then_released
def test_mass_removal_guard_against_the_sandbox(sandbox: SandboxServer, warehouse: Path) -> None:
    build(warehouse)
    pushed(warehouse, segments=["multi_provider"], providers=["chatman", "waabot"])
    before = memberships(sandbox)
    with duckdb.connect(str(warehouse)) as con:  # the segment loses most of its members
        con.execute("DELETE FROM crm.segment_members WHERE segment = 'multi_provider' AND person_id IN "
                    "(SELECT person_id FROM crm.segment_members WHERE segment = 'multi_provider' "
                    "ORDER BY person_id LIMIT (SELECT count(*) * 0.7 FROM crm.segment_members "
                    "WHERE segment = 'multi_provider'))")
    reset_stats(sandbox)
    dry = CliRunner().invoke(app, ["push", "--dry-run", "--json", "--warehouse", str(warehouse), "--segment",
                                   "multi_provider", "--provider", "chatman", "--provider", "waabot"])
    assert dry.exit_code == 0, dry.output
    planned = json.loads(dry.stdout)["segments"]["multi_provider"]
    held = push(warehouse, segments=["multi_provider"], providers=["chatman", "waabot"])
    assert all(t.held > 0 and t.removed == 0 for t in held.targets())
    assert {p: (t["held"], t["removed"]) for p, t in planned.items()} == {
        p: (t.held, 0) for p, t in held.segments["multi_provider"].items()}
    assert writes(sandbox) == Counter() and memberships(sandbox) == before
    released = pushed(warehouse, segments=["multi_provider"], providers=["chatman", "waabot"],
                      allow_mass_removal=True)
    assert [t.removed for t in released.targets()] == [t.held for t in held.targets()]
    now = memberships(sandbox)
    for segment, provider, name in TARGETS:
        if segment == "multi_provider" and provider in ("chatman", "waabot"):
            state = {m for (m,) in rows(warehouse, "SELECT coalesce(record_id, contact_id) FROM ops.push_state "
                                                   "WHERE provider = ? AND segment = ?", [provider, segment])}
            assert now[(provider, name)] == state


def cli_push(sandbox: SandboxServer, warehouse: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOURCES__")}
    return subprocess.Popen([sys.executable, "-m", "crmsync", "push", "--sandbox", sandbox.url,
                             "--warehouse", str(warehouse), "--json"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.slow  # ~25 s quiet; tests/reliability/test_kill_loop.py keeps a kill in make test
def test_sigkill_mid_push_then_push_again_under_faults_ends_equal(sandbox: SandboxServer, warehouse: Path) -> None:
    build(warehouse)
    set_faults(sandbox, latency_ms=20)
    process = cli_push(sandbox, warehouse)
    deadline = time.monotonic() + 30
    while sum(writes(sandbox).values()) < 60 and time.monotonic() < deadline:  # well into the push
        time.sleep(0.05)
    assert process.poll() is None, "the push ended before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    kept = rows(warehouse, "SELECT count(*) FROM ops.push_state")[0][0]
    assert 0 < kept, "the killed push recorded nothing it had confirmed"
    # Run again with 5xx answers and a rate limit (429 + Retry-After): no change is lost.
    set_faults(sandbox, latency_ms=0, error_rate=0.1, rate_limit=300)
    reset_stats(sandbox)
    rerun = cli_push(sandbox, warehouse)
    _, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err.decode()[-2000:]
    set_faults(sandbox, error_rate=0.0, rate_limit=None)
    statuses = httpx.get(f"{sandbox.url}/_sandbox/stats", timeout=10).json()["statuses"]
    assert any(code.startswith("5") or code == "429" for codes in statuses.values() for code in codes)
    assert_equal(sandbox, warehouse)  # includes: one Waabot record per person, none left over
    # The killed run is closed as killed by the next push (it found it still "running").
    assert rows(warehouse, "SELECT status FROM ops.push_runs ORDER BY started_at") == [("killed",), ("ok",)]


@pytest.mark.slow  # two pushes in their own processes after a whole build: ~25 s quiet
def test_push_progress_on_stderr_and_none_with_json(sandbox: SandboxServer, warehouse: Path) -> None:
    """Each target's members sent, of its total, on stderr as the push goes; with --json,
    stdout is the one JSON document and stderr carries no progress."""
    build(warehouse)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOURCES__")}
    command = [sys.executable, "-m", "crmsync", "push", "--sandbox", sandbox.url, "--warehouse", str(warehouse)]
    quiet = subprocess.run([*command, "--segment", "multi_provider", "--json"], env=env, capture_output=True,
                           text=True, timeout=120)
    assert quiet.returncode == 0, quiet.stderr
    assert json.loads(quiet.stdout)["segments"]["multi_provider"]["chatman"]["added"] > 0
    assert " members" not in quiet.stderr and "→" not in quiet.stderr, quiet.stderr

    shown = subprocess.run([*command, "--segment", "inactive_opted_in"], env=env, capture_output=True, text=True,
                           timeout=120, encoding="utf-8")
    assert shown.returncode == 0, shown.stderr
    sent = dict(rows(warehouse, "SELECT provider, count(*) FROM ops.push_log WHERE segment = 'inactive_opted_in' "
                                "GROUP BY ALL"))
    assert len(sent) == 5 and all(sent.values())
    for provider, count in sent.items():
        lines = [line.strip() for line in shown.stderr.splitlines() if line.strip().startswith(
            f"inactive_opted_in → {provider}:")]
        assert lines[0].endswith(f": 0 of {count:,} members"), lines
        assert lines[-1].endswith(f": {count:,} of {count:,} members"), lines
