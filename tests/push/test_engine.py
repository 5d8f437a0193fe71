"""The push engine against an in-memory push client: diff, guard, resumability, audit.

The warehouse is built directly (crm.segment_members, crm.contacts, crm.people) in a temp
DuckDB file, the segments in a temp transforms root; no HTTP.
"""

from __future__ import annotations

import hashlib
import threading
from itertools import count
from pathlib import Path

import duckdb
import pytest
from crmsync.kernel.errors import UserError
from crmsync.kernel.push import Member, Outcome, PushTarget
from crmsync.pipelines.push import push
from crmsync.sources.common.http import AuthError, RequestFailed

SEGMENT_HEADER = """-- description: test segment
-- push: chatman segment "Test"
-- push: waabot group "Test"
SELECT person_id FROM crm.segment_members WHERE false
"""


class FakeClient:
    """A provider in memory. Contact-keyed by default; `records` makes each add create a
    record (like Waabot group records), so a second add of the same person would duplicate."""

    def __init__(self, provider: str = "chatman", batch_size: int = 1, concurrency: int = 4,
                 records: bool = False) -> None:
        self.provider, self.batch_size, self.concurrency, self.records = provider, batch_size, concurrency, records
        self.targets: dict[str, dict[str, str]] = {}  # target id -> membership key -> person
        self.names: dict[str, str] = {}
        self.writes = 0
        self.reject: set[str] = set()
        self.fail_after: int | None = None  # raise RequestFailed on the write call after this many
        self.error: Exception = RequestFailed("fake: 503 after retries", 503)
        self.lock = threading.Lock()
        self.ids = count(1)

    def resolve_target(self, target: PushTarget, create: bool) -> str:
        if target.name not in self.names:
            if not create:  # as the real clients answer a missing target
                raise UserError(f"{self.provider}: {target.name!r} does not exist")
            self.names[target.name] = f"t{len(self.names) + 1}"
            self.targets[self.names[target.name]] = {}
        return self.names[target.name]

    def _write(self) -> None:
        with self.lock:
            if self.fail_after is not None and self.writes >= self.fail_after:
                raise self.error
            self.writes += 1

    def add(self, target_id: str, members: list[Member]) -> list[Outcome]:
        self._write()
        out = []
        with self.lock:
            held = self.targets[target_id]
            for m in members:
                if m.person_id in self.reject:
                    out.append(Outcome(m.person_id, "rejected", m.contact_id, None, "refused"))
                    continue
                contact = m.contact_id or f"new-{m.person_id}"
                if self.records:  # not idempotent on purpose: the engine must never add twice
                    record = f"r{next(self.ids)}"
                    held[record] = m.person_id
                    out.append(Outcome(m.person_id, "ok", contact, record, None))
                else:
                    held[contact] = m.person_id
                    out.append(Outcome(m.person_id, "ok", contact, None, None))
        return out

    def remove(self, target_id: str, members: list[Member], records: list[str | None]) -> list[Outcome]:
        self._write()
        with self.lock:
            for m, record in zip(members, records):
                self.targets[target_id].pop(record or m.contact_id, None)
        return [Outcome(m.person_id, "ok", m.contact_id, r, None) for m, r in zip(members, records)]

    def members(self, name: str = "Test") -> set[str]:
        return set(self.targets.get(self.names.get(name, ""), {}))

    def people(self, name: str = "Test") -> list[str]:
        return sorted(self.targets.get(self.names.get(name, ""), {}).values())


class World:
    """The warehouse tables push reads, written directly."""

    def __init__(self, tmp_path: Path) -> None:
        self.path = tmp_path / "warehouse.duckdb"
        self.root = tmp_path / "transforms"
        (self.root / "segments").mkdir(parents=True)
        (self.root / "segments" / "test.sql").write_text(SEGMENT_HEADER)
        with duckdb.connect(str(self.path)) as con:
            con.execute("CREATE SCHEMA crm")
            con.execute("CREATE TABLE crm.segment_members (segment VARCHAR, person_id VARCHAR)")
            con.execute("CREATE TABLE crm.contacts (person_id VARCHAR, provider VARCHAR, contact_id VARCHAR, "
                        "phone_e164 VARCHAR, email VARCHAR, created_at TIMESTAMP, deleted_at TIMESTAMP)")
            con.execute("CREATE TABLE crm.people (person_id VARCHAR, full_name VARCHAR, phone_e164 VARCHAR, "
                        "email VARCHAR)")

    def sql(self, statement: str, params: list | None = None) -> list[tuple]:
        with duckdb.connect(str(self.path)) as con:
            return con.execute(statement, params or []).fetchall()

    def people(self, n: int, provider: str = "chatman") -> list[str]:
        """n people p00.., each with one contact c00.. in `provider` and a phone."""
        ids = [f"p{i:02d}" for i in range(n)]
        with duckdb.connect(str(self.path)) as con:
            con.executemany("INSERT INTO crm.people VALUES (?, ?, ?, NULL)",
                            [[p, f"Name {i}", f"+2348000000{i:03d}"] for i, p in enumerate(ids)])
            con.executemany("INSERT INTO crm.contacts VALUES (?, ?, ?, ?, NULL, TIMESTAMP '2026-01-01' "
                            "+ INTERVAL (?) MINUTE, NULL)",
                            [[p, provider, f"c{i:02d}", f"+2348000000{i:03d}", i] for i, p in enumerate(ids)])
        return ids

    def segment(self, people: list[str], name: str = "test") -> None:
        with duckdb.connect(str(self.path)) as con:
            con.execute("DELETE FROM crm.segment_members WHERE segment = ?", [name])
            if people:
                con.executemany("INSERT INTO crm.segment_members VALUES (?, ?)", [[name, p] for p in people])

    def run(self, client: FakeClient, **options: object):
        return push(self.path, transforms_root=self.root, clients={client.provider: client},
                    providers=[client.provider], **options)

    def state(self) -> list[tuple]:
        return self.sql("SELECT person_id, contact_id, record_id FROM ops.push_state ORDER BY 1, 2, 3")

    def digest(self) -> str:
        """A hash of every table's rows, to show a run changed nothing."""
        with duckdb.connect(str(self.path), read_only=True) as con:
            tables = con.execute("SELECT schema_name, table_name FROM duckdb_tables() ORDER BY 1, 2").fetchall()
            text = repr([(s, t, sorted(map(repr, con.execute(f'SELECT * FROM "{s}"."{t}"').fetchall())))
                         for s, t in tables])
        return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture()
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def counts(result, provider: str = "chatman") -> dict[str, int]:
    return result.segments["test"][provider].counts()


def test_first_push_adds_the_segment_and_a_second_makes_no_call(world: World) -> None:
    people = world.people(10)
    world.segment(people[:6])
    client = FakeClient()
    first = world.run(client)
    assert first.status == "ok"
    assert counts(first) == {"added": 6, "removed": 0, "rejected": 0, "held": 0}
    assert client.members() == {f"c{i:02d}" for i in range(6)}
    writes = client.writes
    second = world.run(client)
    assert counts(second) == {"added": 0, "removed": 0, "rejected": 0, "held": 0}
    assert client.writes == writes


def test_diff_sends_only_the_changes(world: World) -> None:
    people = world.people(10)
    world.segment(people[:6])
    client = FakeClient()
    world.run(client)
    world.segment(people[2:8])  # p00, p01 leave; p06, p07 enter
    client.writes = 0
    result = world.run(client)
    assert counts(result) == {"added": 2, "removed": 2, "rejected": 0, "held": 0}
    assert client.writes == 4
    assert client.members() == {f"c{i:02d}" for i in range(2, 8)}


def test_removes_only_what_it_added(world: World) -> None:
    people = world.people(10)
    world.segment(people[:6])
    client = FakeClient()
    world.run(client)
    target = client.names["Test"]
    client.targets[target]["c09"] = "p09"  # added by a person in the CRM
    client.targets[target]["c05"] = "p05"  # in the segment and already there: no change
    world.segment(people[:4])
    result = world.run(client)
    assert counts(result)["removed"] == 2
    assert client.members() == {"c00", "c01", "c02", "c03", "c09"}


def test_mass_removal_is_held_then_released(world: World) -> None:
    people = world.people(10)
    world.segment(people)
    client = FakeClient()
    world.run(client)
    world.segment(people[:4])  # would remove 6 of 10: more than half
    held = world.run(client)
    assert counts(held) == {"added": 0, "removed": 0, "rejected": 0, "held": 6}
    assert len(client.members()) == 10
    assert world.sql("SELECT count(*) FROM ops.push_log WHERE status = 'held' AND run_id = ?",
                     [held.run_id]) == [(6,)]
    released = world.run(client, allow_mass_removal=True)
    assert counts(released) == {"added": 0, "removed": 6, "rejected": 0, "held": 0}
    assert client.members() == {"c00", "c01", "c02", "c03"}


def test_a_segment_becoming_empty_is_held(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUSH__MAX_REMOVAL_SHARE", "1.0")  # the share allows it, emptiness does not
    people = world.people(3)
    world.segment(people)
    client = FakeClient()
    world.run(client)
    world.segment([])
    assert counts(world.run(client))["held"] == 3
    assert len(client.members()) == 3


def test_removal_share_is_configurable(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    people = world.people(10)
    world.segment(people)
    client = FakeClient()
    world.run(client)
    world.segment(people[:7])  # 3 of 10
    monkeypatch.setenv("PUSH__MAX_REMOVAL_SHARE", "0.2")
    assert counts(world.run(client))["held"] == 3
    monkeypatch.setenv("PUSH__MAX_REMOVAL_SHARE", "0.3")
    assert counts(world.run(client))["removed"] == 3


def test_rejected_members_are_logged_and_retried(world: World) -> None:
    people = world.people(5)
    world.segment(people)
    client = FakeClient()
    client.reject = {"p01"}
    first = world.run(client)
    assert counts(first) == {"added": 4, "removed": 0, "rejected": 1, "held": 0}
    assert first.segments["test"]["chatman"].errors == ["refused"]
    assert world.sql("SELECT person_id, operation, status, error FROM ops.push_log WHERE status <> 'ok'") == [
        ("p01", "add", "rejected", "refused")]
    client.reject = set()
    client.writes = 0
    second = world.run(client)
    assert counts(second)["added"] == 1 and client.writes == 1
    assert "c01" in client.members()


def test_dry_run_writes_nothing(world: World) -> None:
    people = world.people(8)
    world.segment(people[:5])
    client = FakeClient()
    before = world.digest()
    dry = world.run(client, dry_run=True)
    assert world.digest() == before  # no ops tables created
    assert client.writes == 0 and client.names == {}  # the target was not created
    target = dry.segments["test"]["chatman"]
    assert (target.added, target.created, dry.run_id) == (5, True, None)
    assert [m["person_id"] for m in target.sample["add"]] == people[:5]
    world.run(client)
    world.segment(people[:4] + people[5:7])
    before = world.digest()
    writes = client.writes
    dry = world.run(client, dry_run=True)
    assert world.digest() == before and client.writes == writes
    assert counts(dry) == {"added": 2, "removed": 1, "rejected": 0, "held": 0}
    assert [m["person_id"] for m in dry.segments["test"]["chatman"].sample["remove"]] == ["p04"]


def test_state_advances_only_on_confirmed_writes(world: World) -> None:
    people = world.people(30)
    world.segment(people)
    client = FakeClient(provider="waabot", records=True, concurrency=3)
    client.fail_after = 12
    failed = world.run(client)
    assert failed.status == "failed"
    target = failed.segments["test"]["waabot"]
    assert target.status == "failed" and "503" in target.error
    # Every confirmed add is in the state, nothing else: the rerun adds the rest only once.
    assert len(world.state()) == target.added == 12
    assert {r for _, _, r in world.state()} == client.members()
    client.fail_after = None
    rerun = world.run(client)
    assert rerun.status == "ok" and counts(rerun, "waabot")["added"] == 18
    assert client.people() == people  # one record per person: no duplicate
    assert {r for _, _, r in world.state()} == client.members()
    assert world.sql("SELECT status, added FROM ops.push_runs ORDER BY started_at") == [("failed", 12), ("ok", 18)]


def test_batches_and_concurrency(world: World) -> None:
    people = world.people(25)
    world.segment(people)
    client = FakeClient(batch_size=10, concurrency=2)
    result = world.run(client)
    assert counts(result)["added"] == 25 and client.writes == 3


def test_a_provider_failing_does_not_stop_the_others(world: World) -> None:
    people = world.people(4)
    world.segment(people)
    broken = FakeClient(provider="chatman")
    broken.fail_after, broken.error = 0, AuthError("chatman: the API key was refused")
    waabot = FakeClient(provider="waabot", records=True)
    result = push(world.path, transforms_root=world.root, clients={"chatman": broken, "waabot": waabot})
    assert result.status == "failed"
    assert result.segments["test"]["chatman"].status == "failed"
    assert "refused" in result.segments["test"]["chatman"].error
    assert result.segments["test"]["waabot"].counts()["added"] == 4  # no chatman contact: created from phones
    assert len(waabot.members()) == 4


def test_deleted_contact_drops_its_membership_and_moves_to_a_live_one(world: World) -> None:
    people = world.people(3)
    world.segment(people)
    client = FakeClient()
    world.run(client)
    # p01's contact c01 was deleted in the provider (its membership went with it); p01 has another.
    world.sql("UPDATE crm.contacts SET deleted_at = now() WHERE contact_id = 'c01'")
    world.sql("INSERT INTO crm.contacts VALUES ('p01', 'chatman', 'c99', NULL, NULL, TIMESTAMP '2026-02-01', NULL)")
    client.targets[client.names["Test"]].pop("c01")
    client.writes = 0
    result = world.run(client)
    assert result.segments["test"]["chatman"].gone == 1
    assert counts(result)["added"] == 1 and client.writes == 1
    assert client.members() == {"c00", "c99", "c02"}
    assert ("p01", "c99", None) in world.state()


def test_people_without_a_contact_are_pushed_only_where_the_push_creates_one(world: World) -> None:
    people = world.people(3)
    world.sql("INSERT INTO crm.people VALUES ('p50', 'No contact', '+2348000000050', NULL), "
              "('p51', 'No phone', NULL, 'x@example.com')")
    world.segment(people + ["p50", "p51"])
    chatman, waabot = FakeClient("chatman"), FakeClient("waabot", records=True)
    result = push(world.path, transforms_root=world.root, clients={"chatman": chatman, "waabot": waabot})
    assert result.segments["test"]["chatman"].counts()["added"] == 3
    assert waabot.people() == people + ["p50"]


def test_unknown_segment_and_provider_are_user_errors(world: World) -> None:
    with pytest.raises(UserError, match="unknown segment"):
        push(world.path, segments=["nope"], transforms_root=world.root)
    with pytest.raises(UserError, match="unknown provider"):
        push(world.path, providers=["nope"], transforms_root=world.root)


def test_audit_rows(world: World) -> None:
    people = world.people(4)
    world.segment(people[:3])
    client = FakeClient()
    first = world.run(client)
    world.segment(people[1:4])
    second = world.run(client)
    log = world.sql("SELECT l.run_id, provider, segment, person_id, contact_id, operation, l.status "
                    "FROM ops.push_log AS l JOIN ops.push_runs AS r USING (run_id) "
                    "ORDER BY r.started_at, operation DESC, person_id")
    assert log == [(first.run_id, "chatman", "test", p, c, "add", "ok") for p, c in
                   [("p00", "c00"), ("p01", "c01"), ("p02", "c02")]] + [
        (second.run_id, "chatman", "test", "p00", "c00", "remove", "ok"),
        (second.run_id, "chatman", "test", "p03", "c03", "add", "ok")]
    runs = world.sql("SELECT run_id, status, added, removed, rejected, held, finished_at >= started_at "
                     "FROM ops.push_runs ORDER BY started_at")
    assert runs == [(first.run_id, "ok", 3, 0, 0, 0, True), (second.run_id, "ok", 1, 1, 0, 0, True)]


def test_a_record_the_push_made_and_the_next_full_listing_missed_is_gone(world: World) -> None:
    people = world.people(3, provider="chatman")
    world.segment(people)
    client = FakeClient("waabot", records=True)
    world.run(client)
    client.writes = 0
    world.run(client)  # no sync since: the records unknown to the warehouse are trusted
    assert client.writes == 0
    # A Waabot sync (it lists every record) ran after the push: it saw r1 and r3, not r2,
    # which was deleted in Waabot before any sync could see it.
    with duckdb.connect(str(world.path)) as con:
        con.execute("CREATE SCHEMA raw_waabot")
        con.execute("CREATE TABLE raw_waabot._dlt_loads AS SELECT '1' AS load_id, 'waabot' AS schema_name, "
                    "0 AS status, now() AS inserted_at")
        con.execute("INSERT INTO crm.contacts SELECT person_id, 'waabot', record_id, NULL, NULL, now(), NULL "
                    "FROM ops.push_state WHERE record_id <> 'r2'")
    client.targets[client.names["Test"]].pop("r2")
    result = world.run(client)
    assert (result.segments["test"]["waabot"].gone, counts(result, "waabot")["added"]) == (1, 1)
    assert client.people() == people and {r for _, _, r in world.state()} == client.members()


def test_state_follows_a_person_id_change_without_a_write(world: World) -> None:
    people = world.people(3)
    world.segment(people)
    client = FakeClient()
    world.run(client)
    with duckdb.connect(str(world.path)) as con:  # identity resolution renamed p01 to p91
        for table in ("crm.contacts", "crm.people", "crm.segment_members"):
            con.execute(f"UPDATE {table} SET person_id = 'p91' WHERE person_id = 'p01'")
    client.writes = 0
    assert counts(world.run(client)) == {"added": 0, "removed": 0, "rejected": 0, "held": 0}
    assert client.writes == 0
    assert ("p91", "c01", None) in world.state() and ("p01", "c01", None) not in world.state()
