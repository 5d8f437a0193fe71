"""DM Champ: the contact ids, tags and messages of the people crmsync already knows.

What is read: DM Champ cannot be listed, so each run looks up the people the other
providers brought into the warehouse (`sources.common.known_people`): `GET
/contacts?phoneNumber=<E.164>` and, when the phone finds nothing, `?email=` with each email
seen beside it. Tables in `raw_dmchamp`:
- `lookups` (key `lookup_key`, the phone or else the email): who was asked and what DM Champ
  answered (`contact_id` null: not found), with `looked_up_at`.
- `contacts` (key `contact_id`): the contacts found, the phone/email they were found by,
  `found_at`, and `deleted_at` once DM Champ answers 404 for them. A contact two lookups lead
  to keeps the person it was first found for (`contact_rows`). The contacts crmsync's push
  put in lists that no lookup found (those it created) are there too, `found_by` "push".
- `contact_tags` (key `contact_id` + `name`; `tag_id` is the two joined): a tag that
  disappears from a contact, or whose contact is deleted, gets `deleted_at`.
- `messages` (key `id`): direction, channel, text, `created_at`; `deleted_at` once the
  contact is deleted.

How it is incremental: a person found once is not looked up again (the live contacts of
`raw_dmchamp.contacts` and the lookups that led to one say who was found); a person not found
is asked again only after `recheck_missing_hours`, but a contact the push created for them is
read from the next run on. Live contacts are re-checked (one tags and one messages request
each, `concurrency` at a time within the rate budget) as far as the run's request budget goes
(`run_budget`, `sources.common.budget`): first the stalest, the contacts never checked and those
whose person changed in another provider, so every contact is re-checked within
ceil(contacts / (budget / 4)) runs; the first run and a full refresh re-check every one. Tags
load only when their content changed (fingerprints), messages only past that contact's own
newest `createdAt` (a cursor per contact, with `lag_seconds` for late writes). A run with no
change loads nothing, but still costs two requests per re-checked contact. When each contact
was last re-checked is in `ops.confirmed`.

What the API cannot give: the contact records themselves (name, phone, email, flags), lists
and their members, tag ids, and any contact nobody else knows; no way to ask for messages
since a time, so every run reads each contact's whole message list. People seen only
with a number DM Champ does not hold (its record uses another phone) are found only through
an email. Deleted contacts are noticed when they answer 404 (the push then creates the person
again), contacts merged or re-created under a new id only when their person is looked up
again (after `recheck_missing_hours`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import dlt
import pyarrow as pa
from crmsync.kernel.provider import Provider, PushRule
from crmsync.sources.common import budget
from crmsync.sources.common.budget import Candidate, Refresh
from crmsync.sources.common.http import ApiClient, Bounds
from crmsync.sources.common.known_people import changed_at as known_people_changed_at
from crmsync.sources.common.known_people import group_people, known_people
from crmsync.sources.common.lookups import look_up_all, to_look_up
from crmsync.sources.common.paging import get_each
from crmsync.sources.common.resources import require_keys, tables
from crmsync.sources.common.run import SyncRun
from crmsync.sources.dmchamp.helpers import (
    CONTACT_COLUMNS,
    LOOKUP_COLUMNS,
    MESSAGE_COLUMNS,
    TAG_COLUMNS,
    Answer,
    ContactCursors,
    Previous,
    contact_rows,
    look_up,
    read_previous,
    read_pushed,
    unresolved,
)
from dlt.sources import DltResource, DltSource


def build_source(settings: dict[str, Any], run: SyncRun) -> DltSource:
    api = api_client(settings, run)
    directory = Directory(api, run, settings["default_region"] or None,
                          timedelta(hours=settings["recheck_missing_hours"]),
                          max(1, settings["concurrency"]), budget.run_budget("dmchamp", settings))
    return dmchamp_source(directory, settings["batch_size"], settings["lag_seconds"])


def api_client(settings: dict[str, Any], run: SyncRun) -> ApiClient:
    """The one client of a run (sync or push): one rate budget for every request."""
    return run.client(ApiClient(
        "dmchamp", settings["base_url"], auth_setting="api_key",
        params={"apiKey": settings["api_key"]}, per_second=settings["requests_per_second"],
        bounds=Bounds.of(settings)))


@dataclass
class Directory:
    """The lookups of one run, done once for every resource that needs them."""

    api: ApiClient
    run: SyncRun
    default_region: str | None
    recheck: timedelta
    concurrency: int
    budget: int | None  # requests a run may spend (None: no bound)
    _answers: list[Answer] | None = None
    _contacts: list[dict[str, Any]] = field(default_factory=list)
    _live: list[Candidate] = field(default_factory=list)
    _capacity: int | None = None  # contacts each re-checked resource may read, once looked up
    _plans: dict[str, Refresh] = field(default_factory=dict)

    def answers(self) -> list[Answer]:
        """Ask DM Champ about every known person not found before (first call only)."""
        if self._answers is None:
            state = dlt.current.source_state()
            # Only trust the warehouse's tables when this state wrote them: after a full
            # refresh (state dropped, tables dropped at load) everyone is asked again.
            previous = read_previous(self.run.warehouse) if state.get("loaded") else Previous()
            people = group_people(known_people(self.run.warehouse, self.default_region,
                                               exclude="dmchamp"))
            # Re-checks of misses share the budget (none on the first run or a full refresh).
            ask = to_look_up(unresolved(people, previous), previous.missed_at, self.recheck,
                             self.budget, self.api.requests)
            self._answers = look_up_all(self.api, ask, look_up, self.concurrency)
            self._contacts = contact_rows(self._answers, read_pushed(self.run.warehouse), previous)
            # Every contact an answer found is either live already or among the new rows.
            found = {row["contact_id"]: Candidate(row["contact_id"], row.get("phone_e164"), row.get("email"))
                     for row in self._contacts}
            self._live = list({**previous.live, **found}.values())
            # The first run and a full refresh (whose load drops the tables) read everything.
            self._capacity = budget.capacity(self.budget if state.get("loaded") else None, self.api.requests,
                                             len(REFRESHED))
            self._count_rejections()
            state["loaded"] = True
        return self._answers

    def contacts(self) -> list[dict[str, Any]]:
        """The rows of the contacts this run learnt of (`contact_rows`)."""
        self.answers()
        return self._contacts

    def plan(self, resource: str) -> Refresh:
        """The live contacts `resource` re-checks this run (found before and still live, then
        found now), as far as the budget goes; computed once per resource."""
        if resource not in self._plans:
            self.answers()
            changed = known_people_changed_at(self.run.warehouse, self.default_region, exclude="dmchamp")
            self._plans[resource] = self.run.refreshes.add(budget.plan(
                self.run.warehouse, "dmchamp", resource, self._live, self._capacity, changed))
        return self._plans[resource]

    def each(self, resource: str, path: str, batch_size: int) -> Iterator[list[tuple[str, Any]]]:
        """(contact id, body or None when DM Champ answers 404) for every contact `resource`
        re-checks this run."""
        yield from get_each(self.api, self.plan(resource).chosen, path.format, self.concurrency, batch_size)

    def _count_rejections(self) -> None:
        problems = self.run.shape("lookups", LOOKUP_COLUMNS).problems
        for answer in self._answers or ():
            for what in answer.rejected:
                problems[f"{what}: refused by DM Champ as invalid (4xx)"] += 1


@dlt.source(name="dmchamp", max_table_nesting=0)
def dmchamp_source(directory: Directory, batch_size: int, lag_seconds: int) -> list[DltResource]:
    run = directory.run
    shape, scans = run.shape, run.scans

    @dlt.resource(name="lookups", primary_key="lookup_key", write_disposition="merge")
    def lookups() -> Iterator[pa.Table]:
        rows = [answer.lookup_row() for answer in directory.answers()]
        yield from tables(_batches(rows, batch_size), shape("lookups", LOOKUP_COLUMNS), "lookup_key")

    @dlt.resource(name="contacts", primary_key="contact_id", write_disposition="merge")
    def contacts() -> Iterator[pa.Table]:
        yield from tables(_batches(directory.contacts(), batch_size),
                          shape("contacts", CONTACT_COLUMNS), "contact_id", deletable=True)

    @dlt.resource(name="contact_tags", primary_key=("contact_id", "name"), write_disposition="merge")
    @run.fails_alone("contact_tags")
    def contact_tags() -> Iterator[pa.Table]:
        fingerprints = dlt.current.resource_state().setdefault("fingerprints", {})
        scan = scans.start("contact_tags", "tag_id")
        pages = (_tag_records(batch) for batch in directory.each("contact_tags", "/contacts/tags/{}", batch_size))
        # The tags of contacts the budget skipped stay as they are.
        scan.saw(budget.carried(run.warehouse, "raw_dmchamp", "contact_tags", "tag_id", "contact_id",
                                directory.plan("contact_tags").skipped()))
        for page in tables(pages, shape("contact_tags", TAG_COLUMNS), "tag_id", scan=scan,
                           fingerprints=fingerprints, deletable=True):
            yield require_keys(page, ("contact_id", "name"))
        # A tag removed and added again must load again: forget what the scan did not see.
        seen = set(scan.seen().column("id").to_pylist())
        for tag_id in [t for t in fingerprints if t not in seen]:
            del fingerprints[tag_id]

    @dlt.resource(name="messages", primary_key="id", write_disposition="merge")
    @run.fails_alone("messages")
    def messages() -> Iterator[pa.Table]:
        skipped = directory.plan("messages").skipped()  # by the budget: left as they are
        cursors = ContactCursors(dlt.current.resource_state().setdefault("contacts", {}),
                                 timedelta(seconds=lag_seconds), kept=skipped)
        # Contacts are deleted when their messages answer 404: this pass sees who is live.
        live = scans.start("contacts", "contact_id")
        live.saw(pa.array(skipped, pa.string()))

        def pages() -> Iterator[list[dict[str, Any]]]:
            for batch in directory.each("messages", "/contacts/messages/{}", batch_size):
                answered = [contact_id for contact_id, body in batch if body is not None]
                live.saw(pa.array(answered, pa.string()))
                yield _message_records(batch, shape("messages", MESSAGE_COLUMNS).problems)
            live.finish()

        scan = scans.start("messages", "id")
        scan.saw(budget.carried(run.warehouse, "raw_dmchamp", "messages", "id", "contact_id", skipped))
        yield from tables(pages(), shape("messages", MESSAGE_COLUMNS), "id",
                          cursor=cursors, scan=scan, deletable=True)  # type: ignore[arg-type]

    return [lookups, contacts, contact_tags, messages]


REFRESHED = ("contact_tags", "messages")  # one request per contact each, within the run's budget


def _batches(rows: list[dict[str, Any]], size: int) -> Iterable[list[dict[str, Any]]]:
    return (rows[i:i + size] for i in range(0, len(rows), size))


def _tag_records(batch: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    records = []
    for contact_id, body in batch:
        for tag in body if isinstance(body, list) else ():
            if isinstance(tag, dict):
                name = tag.get("name")
                tag_id = f"{contact_id}:{name}" if isinstance(name, str) else None
                records.append({"tag_id": tag_id, **tag, "contactId": contact_id})
    return records


def _message_records(batch: list[tuple[str, Any]], problems: Any) -> list[dict[str, Any]]:
    """The batch's messages contact by contact (ContactCursors relies on that order)."""
    records = []
    for contact_id, body in batch:
        if body is not None and not isinstance(body, list):
            problems["messages: answer is not a list"] += 1
            continue
        records += [{**m, "contactId": contact_id} for m in body or () if isinstance(m, dict)]
    return records


# The descriptor is made last: the push client module imports this package's api_client.
from crmsync.sources.dmchamp import push  # noqa: E402
from crmsync.sources.dmchamp.settings import SETTINGS  # noqa: E402

HERE = Path(__file__).parent
PROVIDER = Provider(
    name="dmchamp",
    settings=SETTINGS,
    build_source=build_source,
    push_client=push.push_client,
    # Lists are named by their id; a push creates the contact of a person DM Champ lacks.
    push=PushRule("list", bare_id=True, creates_contacts=True),
    lookup=True,
    after=("chatrace",),  # it looks up the people Chatrace brought in too
    required=("lookups", "contacts"),  # the contacts are found by the look-ups
    emulator="crmsync.sandbox.providers.dmchamp:DmChamp",
    staging=HERE / "staging",
    dictionary=HERE / "raw.toml",
)
