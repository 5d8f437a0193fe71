"""Provenance: the records crmsync's push creates (DM Champ contacts, Waabot group records)
are written down as crmsync's (ops.created_records), marked in crm.contacts
(created_by_crmsync) when the next sync reads them back, and count nowhere in crm.people:
the next transform gives the same people and the same segments. The three-round version
with churn and faults is tests/reliability/test_fixed_point.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from crmsync.kernel.push import Member, PushTarget
from crmsync.sandbox.app import create_app
from crmsync.sandbox.link import sandbox_environment
from crmsync.sandbox.server import AppServer, SandboxServer
from crmsync.sandbox.world import World
from crmsync.sources.common.config import provider_settings
from crmsync.sources.common.run import SyncRun
from crmsync.sources.dmchamp.push import push_client as dmchamp_push_client
from crmsync.sources.waabot.push import push_client as waabot_push_client
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tests.push import test_push_sandbox as push_fixtures
from tests.push.test_push_sandbox import SEGMENTS, build, pushed, rows

sandbox, warehouse = push_fixtures.sandbox, push_fixtures.warehouse  # 100 people; a temp warehouse
CREATORS = ["dmchamp", "waabot"]  # the providers whose push creates the record holding a membership


def people(warehouse: Path) -> set[tuple]:
    return {(p, tuple(providers), n) for p, providers, n in rows(warehouse, "SELECT person_id, providers, contact_count FROM crm.people")}


def members(warehouse: Path) -> set[tuple[str, str]]:
    return set(rows(warehouse, "SELECT segment, person_id FROM crm.segment_members"))


def test_records_the_push_created_are_marked_and_move_no_person_nor_segment(sandbox: SandboxServer,
                                                                           warehouse: Path) -> None:
    build(warehouse)
    before_people, before_members = people(warehouse), members(warehouse)
    result = pushed(warehouse, segments=["multi_provider"], providers=CREATORS)
    assert all(t.added > 0 for t in result.targets()), result.as_dict()
    created = set(rows(warehouse, "SELECT provider, contact_id FROM ops.created_records"))
    assert {p for p, _ in created} == set(CREATORS)

    build(warehouse)  # the sync reads the created records back
    marked = set(rows(warehouse, "SELECT provider, contact_id FROM crm.contacts WHERE created_by_crmsync"))
    assert marked == created
    # Each marked record is attached to the person it was made for.
    assert rows(warehouse, """SELECT count(*) FROM crm.contacts AS c JOIN ops.created_records AS r
                              USING (provider, contact_id) WHERE c.person_id IS DISTINCT FROM r.person_id""") \
        == [(0,)]
    assert people(warehouse) == before_people
    assert members(warehouse) == before_members
    again = pushed(warehouse, segments=["multi_provider"], providers=CREATORS)
    assert sum(t.added + t.removed for t in again.targets()) == 0, again.as_dict()


def first_create_answered_502(app: ASGIApp) -> ASGIApp:
    """`app`, but the first POST to each path is made and then answered 502, as a server whose
    answer is lost after the write happened."""
    answered: set[str] = set()

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] in answered:
            return await app(scope, receive, send)
        answered.add(scope["path"])

        async def swallow(message: Message) -> None:
            pass

        await app(scope, receive, swallow)
        await Response("lost", 502)(scope, receive, send)

    return wrapped


def test_a_create_whose_answer_was_lost_is_still_crmsyncs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The create is made, then answered 502: the retry hears "already exists" of the record
    the first attempt made, which is crmsync's all the same. One made by an earlier add and
    answered at once is not this add's."""
    made, before = Member("p1", None, "+2348031234567", "lost@example.com", "Lost Answer"), \
        Member("p2", None, "+2348031234568", None, "Made Before")
    list_id = next(s for s in SEGMENTS if s.name == "multi_provider").push["dmchamp"].name
    with AppServer(first_create_answered_502(create_app(World(seed=7, contacts=20)))) as server:
        for key, value in sandbox_environment(server.url).items():
            monkeypatch.setenv(key, value)
        run = SyncRun(warehouse=tmp_path / "warehouse.duckdb")
        try:
            dmchamp = dmchamp_push_client(provider_settings("dmchamp"), run)
            waabot = waabot_push_client(provider_settings("waabot"), run)
            group = waabot.resolve_target(PushTarget("waabot", "group", "Lost answers"), create=True)
            lost = [dmchamp.add(list_id, [made])[0], waabot.add(group, [made])[0]]
            first = [dmchamp.add(list_id, [before])[0], waabot.add(group, [before])[0]]
            again = [dmchamp.add(list_id, [before])[0], waabot.add(group, [before])[0]]
        finally:
            run.close()
    assert [(o.status, o.created) for o in lost] == [("ok", True), ("ok", True)]
    assert [(o.status, o.created) for o in first] == [("ok", True), ("ok", True)]
    assert [(o.status, o.created) for o in again] == [("ok", False), ("ok", False)]
