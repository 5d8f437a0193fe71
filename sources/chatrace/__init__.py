"""Chatrace: pipelines and their stages, opportunities and comments, the contacts they reach
and the known people, account tags and custom fields, carts and orders.

What is read (dataset raw_chatrace):
- `pipelines` (key `id`), `stages` (key `pipeline_id` + `id`), `pipeline_custom_fields` (key
  `pipeline_id` + `id`), `tags` (account tags, key `id`), `custom_fields` (account contact
  fields, key `id`): small listings read whole each run; only rows whose content changed are
  loaded (fingerprints), and the complete read marks what vanished as deleted (`deleted_at`).
- `opportunities` (key `id`, with `pipeline_id`, `contact_id`, `stage_id`/`stage_name`):
  GET /pipelines/{id}/opportunities, offset/limit pages per pipeline, `concurrency` pages in
  flight.
- `opportunity_comments` (key `id`, with `opportunity_id`, `pipeline_id`, `text`).
- `contacts` (key `id`): GET /contacts/{id} for every contact a run reaches; `tags` and
  `custom_fields` as JSON text, `last_sent`/`last_delivered`/`last_seen`/`last_interaction`
  (epoch seconds; 0, "never", becomes null) and `subscribed_date` as timestamps.
- `orders` (key `order_id`, with `contact_id`): amounts in cents as the API gives them,
  `line_items` as JSON text; the contact the API embeds is left out (it is in `contacts`).
- `order_statuses` (key `status`): not read from Chatrace, the settings `order_statuses`
  (code -> name) and `final_order_statuses`, so that the transforms name orders and tell the
  final ones as configured. Loaded like the small listings: only what changed.

How contacts and orders are reached: there is no listing of either. A run reaches the
contacts of every opportunity (`contact_id`), the contacts found by GET
/contacts/find_by_custom_field (phone, then each email when the phone finds nobody) for the
people the other providers brought into the warehouse (`known_people`; so they must sync
first: its descriptor makes it a look-up provider), and every live contact earlier runs
reached. A person already carried by a live contact is not looked up again; one not found
is asked again after `recheck_missing_hours`. Reached contacts are read again (contact and
cart, `concurrency` at a time within the rate budget) as far as the run's request budget goes
(`run_budget`, `sources.common.budget`: the stalest, never read and changed in another provider
first; a skipped contact and its orders stay as they were; the open orders read by id share the
budget; the first run and a full refresh read everything): the contact loads only when its
content changed, and a contact that answers 404 is marked deleted, with its orders.
Orders are each reached contact's cart (its latest order; an empty cart has no order_id and
is skipped) plus, by id, every order seen before whose status is not final
(`final_order_statuses`, default 10 delivered and 13 cancelled): an order stops being the
cart when a newer one starts, and is then reachable only by its id. Orders load when their
content changed (fingerprints). A full refresh (`--full-refresh`) reads the old tables before
they are dropped, so the contacts and every order id reached before carry over: no listing
could give them back.

How it is incremental: opportunities have no time filter, so each run reads every page
(cost: opportunities / page_size requests) and a client-side cursor on `updated_at` loads
only the new and changed ones (and those the warehouse lacks or holds as deleted); its window
reaches back `lag_seconds` plus the duration of the previous scan. The complete scan marks the
opportunities it did not see as deleted, and their comments with them. Comments: adding one
does not move the opportunity's `updated_at`, so a run reads the comments of the opportunities
that are new, changed or lacking (their own cursor), and
every `comments_full_refresh_hours` (and on the first run) the comments of every
opportunity, which also marks single deleted comments. A new comment on an unchanged
opportunity therefore arrives within `comments_full_refresh_hours`. Only comments not
already in the warehouse are loaded (comments cannot be edited). A run with no change loads
nothing; it still costs the opportunity pages, two requests per reached contact, one per
open order, and the lookups of newly known people.

What the API cannot give: a listing of contacts or orders (a contact with no opportunity
that no other provider knows, or known only by a phone/email Chatrace's record does not
carry, is never reached; an order that is neither a reached contact's cart nor seen before
is never reached: one started and superseded as cart between two runs), changes since a time,
deletions (inferred: full scans for opportunities and the listings, 404 for contacts),
comment edits, and the opportunities' custom field values (not in the read model).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

import dlt
import pyarrow as pa
import pyarrow.compute as pc
from crmsync.kernel.provider import Provider, PushRule
from crmsync.sources.chatrace.helpers import (
    COMMENT_COLUMNS,
    CONTACT_COLUMNS,
    CONTACT_PEOPLE,
    CUSTOM_FIELD_COLUMNS,
    OPPORTUNITY_COLUMNS,
    OPPORTUNITY_STAMP_COLUMNS,
    ORDER_COLUMNS,
    ORDER_STATUS_COLUMNS,
    PIPELINE_COLUMNS,
    PIPELINE_FIELD_COLUMNS,
    STAGE_COLUMNS,
    TAG_COLUMNS,
    Page,
    Previous,
    ScanEnd,
    contact_record,
    data_of,
    iso_now,
    loaded_comment_ids,
    look_up,
    offset_pages,
    open_orders,
    order_record,
    order_status_records,
    read_previous,
)
from crmsync.sources.common import budget
from crmsync.sources.common.budget import Candidate, Refresh
from crmsync.sources.common.cursor import Cursor, scan_cursor
from crmsync.sources.common.http import ApiClient, Bounds
from crmsync.sources.common.known_people import changed_at as known_people_changed_at
from crmsync.sources.common.known_people import group_people, known_people
from crmsync.sources.common.lookups import look_up_all, to_look_up
from crmsync.sources.common.paging import Listing, get_each
from crmsync.sources.common.records import Column, Shape
from crmsync.sources.common.resources import new_rows, require_keys, tables
from crmsync.sources.common.run import SyncRun
from crmsync.sources.common.scans import Scan
from dlt.sources import DltResource, DltSource

# A contact, its cart, an open order no cart shows: one request each, within the run's budget.
REFRESHED = ("contacts", "orders", "open_orders")
Item = TypeVar("Item")  # what Reach.each asks about: a contact id, or an (order id, contact id)


@dataclass(frozen=True)
class Options:
    page_size: int
    concurrency: int
    lag_seconds: int
    comments_full_refresh: timedelta
    final_order_statuses: tuple[int, ...]
    order_statuses: tuple[dict[str, Any], ...]  # the `order_statuses` table's records


def build_source(settings: dict[str, Any], run: SyncRun) -> DltSource:
    api = api_client(settings, run)
    final = tuple(int(s) for s in settings["final_order_statuses"])
    options = Options(max(1, settings["page_size"]), max(1, settings["concurrency"]),
                      settings["lag_seconds"],
                      timedelta(hours=settings["comments_full_refresh_hours"]), final,
                      tuple(order_status_records(settings["order_statuses"], final)))
    reach = Reach(api, run, options, settings["default_region"] or None,
                  timedelta(hours=settings["recheck_missing_hours"]), budget.run_budget("chatrace", settings))
    return chatrace_source(reach)


def api_client(settings: dict[str, Any], run: SyncRun) -> ApiClient:
    """The one client of a run (sync or push): one rate budget for every request."""
    return run.client(ApiClient(
        "chatrace", settings["base_url"], auth_setting="access_token",
        headers={"X-ACCESS-TOKEN": settings["access_token"]},
        per_second=settings["requests_per_second"], bounds=Bounds.of(settings)))


@dataclass
class CommentRead:
    """What the comments transformer keeps from its first page to ScanEnd."""

    full: bool  # every opportunity's comments are read, not only the new or changed ones'
    started: str  # when this read began: the next full read is due from here
    existed: bool  # earlier runs loaded comments: look up which are loaded already
    cursor: Cursor
    scan: Scan


@dataclass
class Reach:
    """What the resources of one run share: the client, the run and its options, the
    pipelines, what earlier runs loaded, the contacts this run reaches (each computed once, by
    whichever resource asks first), and the reads the opportunity transformers carry from page
    to page."""

    api: ApiClient
    run: SyncRun
    options: Options
    default_region: str | None
    recheck: timedelta
    budget: int | None  # requests a run may spend (None: no bound)
    _pipelines: list[dict[str, Any]] | None = None
    _previous: Previous | None = None
    _contacts: list[int] | None = None
    _open_orders: list[tuple[str, int]] | None = None
    refreshing: bool = False  # no state: the first run, or a full refresh
    found: dict[int, None] = field(default_factory=dict)  # contacts found by lookup this run
    _capacity: int | None = None  # contacts each re-checked resource may read, once reached
    _plans: dict[str, Refresh] = field(default_factory=dict)
    opportunity_cursor: Cursor | None = None  # made on the listing's first item
    _opportunity_scan: Scan | None = None
    comment_read: CommentRead | None = None  # made on the listing's first item

    def pipelines(self) -> list[dict[str, Any]]:
        if self._pipelines is None:
            pages = offset_pages(self.api, "/pipelines/", self.options.page_size, 1)
            self._pipelines = [p for page in pages for p in page]
        return self._pipelines

    def pipeline_ids(self) -> list[int]:
        return [p["id"] for p in self.pipelines() if isinstance(p.get("id"), int)]

    def previous(self) -> Previous:
        """The warehouse as earlier runs left it. Read even on a full refresh (state dropped,
        tables dropped only at load): it is the only memory of the contacts and order ids
        reached before, which no listing gives back."""
        if self._previous is None:
            state = dlt.current.source_state()
            self.refreshing = not state.get("loaded")
            self._previous = read_previous(self.run.warehouse, self.default_region)
            state["loaded"] = True
        return self._previous

    def opportunity_scan(self) -> Scan:
        """The opportunities' complete scan, started by whichever transformer asks first (the
        comments ask it which opportunities the warehouse lacks)."""
        if self._opportunity_scan is None:
            self._opportunity_scan = self.run.scans.start("opportunities", "id")
        return self._opportunity_scan

    def open_orders(self) -> list[tuple[str, int]]:
        """Orders to ask for by id: those not final; on a full refresh every one the old
        tables hold (the reloaded table must not lose the final ones)."""
        if self._open_orders is None:
            previous = self.previous()
            final = () if self.refreshing else self.options.final_order_statuses
            self._open_orders = (open_orders(self.run.warehouse, final)
                                 if "orders" in previous.tables else [])
        return self._open_orders

    def contact_ids(self, end: ScanEnd) -> list[int]:
        """Earlier runs' live contacts, the opportunities' contacts, the known people found."""
        if self._contacts is None:
            previous = self.previous()
            ids = dict.fromkeys(previous.live_contacts)
            ids.update(end.contact_ids)
            ids.update(self._look_up_known_people(previous))
            self._contacts = list(ids)
            # The first run and a full refresh (whose load drops the tables) read everything.
            self._capacity = budget.capacity(None if self.refreshing else self.budget, self.api.requests,
                                             len(REFRESHED))
        return self._contacts

    def plan(self, resource: str, end: ScanEnd) -> Refresh:
        """The reached contacts `resource` re-reads this run, as far as the budget goes (the
        stalest, never read, changed in another provider first); computed once per resource."""
        if resource not in self._plans:
            self.refresh(resource, budget.candidates(self.run.warehouse, "raw_chatrace", CONTACT_PEOPLE,
                                                     [str(c) for c in self.contact_ids(end)], self.default_region))
        return self._plans[resource]

    def refresh(self, resource: str, candidates: Sequence[Candidate], within: str = "") -> Refresh:
        """Which of `candidates` `resource` (read by the dlt resource `within`) re-reads this run
        (budget.plan)."""
        changed = known_people_changed_at(self.run.warehouse, self.default_region, exclude="chatrace")
        self._plans[resource] = self.run.refreshes.add(budget.plan(
            self.run.warehouse, "chatrace", resource, candidates, self._capacity, changed, within))
        return self._plans[resource]

    def each(self, items: Sequence[Item],
             path_of: Callable[[Item], str]) -> Iterator[list[tuple[Item, Any]]]:
        """(item, answer, or None when Chatrace answers 404) for every item, one GET each,
        `concurrency` in flight, `page_size` items a batch: how contacts, carts and orders are
        read, since Chatrace lists none of them."""
        yield from get_each(self.api, items, path_of, self.options.concurrency, self.options.page_size)

    def _look_up_known_people(self, previous: Previous) -> dict[int, None]:
        state = dlt.current.source_state()
        missed: dict[str, str] = state.setdefault("missed", {})
        people = group_people(known_people(self.run.warehouse, self.default_region, exclude="chatrace"))
        # Re-checks of misses share the run's budget (none on the first run or a full refresh).
        ask = to_look_up([p for p in people if not previous.resolved(p)],
                         {key: datetime.fromisoformat(at) for key, at in missed.items()}, self.recheck,
                         None if self.refreshing else self.budget, self.api.requests)
        answers = look_up_all(self.api, ask, look_up, self.options.concurrency)
        known = {p.key for p in people}
        for key in [k for k in missed if k not in known]:  # the state follows the known people
            del missed[key]
        problems = self.run.shape("contacts", CONTACT_COLUMNS).problems
        for answer in answers:
            if answer.contact_ids:
                missed.pop(answer.person.key, None)
                self.found.update(dict.fromkeys(answer.contact_ids))
            else:
                missed[answer.person.key] = iso_now()
            if answer.rejected:
                problems["lookup: phone/email refused by Chatrace as invalid (4xx)"] += answer.rejected
        return self.found


@dlt.source(name="chatrace", max_table_nesting=0)
def chatrace_source(reach: Reach) -> list[DltResource]:
    # dlt runs resources round-robin, so nothing may wait for another resource to finish.
    # The listing is read once, by a resource that is not loaded itself; the four loaded
    # resources after it are its transformers and see its pages in order, then ScanEnd, after
    # which the reached contacts are known.
    listing = dlt.resource(opportunity_listing, name="opportunity_listing", selected=False)(reach)

    def follow(transform: Callable[[Page | ScanEnd, Reach], Iterator[pa.Table]], name: str,
               primary_key: str) -> DltResource:
        """A loaded transformer of the listing, bound to this run's Reach."""
        return dlt.transformer(transform, data_from=listing, name=name, primary_key=primary_key,
                               write_disposition="merge")(reach)

    # Every resource but the contacts fails alone; the listing the contacts are reached
    # through fails the run (a listing cut short would leave contacts unread).
    alone = reach.run.fails_alone
    return [
        *(dlt.resource(alone(snap.name)(snapshot), name=snap.name, primary_key=snap.primary_key,
                       write_disposition="merge")(reach, snap) for snap in SNAPSHOTS),
        listing,
        follow(alone("opportunities")(opportunities), "opportunities", "id"),
        follow(alone("opportunity_comments")(opportunity_comments), "opportunity_comments", "id"),
        follow(contacts, "contacts", "id"),
        follow(alone("orders")(orders), "orders", "order_id"),
    ]


# -- the small listings ----------------------------------------------------------------------

@dataclass(frozen=True)
class Snapshot:
    """A small listing with no timestamp: read whole each run, load what changed, mark what
    vanished."""

    name: str
    key: str  # the one column the scan marks vanished rows by
    columns: tuple[Column, ...]
    pages: Callable[[Reach], Iterable[list[dict[str, Any]]]]
    primary_key: str | tuple[str, ...]


def snapshot(reach: Reach, snap: Snapshot) -> Iterator[pa.Table]:
    state = dlt.current.resource_state()
    scan = reach.run.scans.start(snap.name, snap.key)
    for table in tables(snap.pages(reach), reach.run.shape(snap.name, snap.columns), snap.key, scan=scan,
                        fingerprints=state.setdefault("fingerprints", {}), deletable=True):
        yield require_keys(table, snap.primary_key)


def _per_pipeline(reach: Reach, path: str, key: str) -> Iterator[list[dict[str, Any]]]:
    """A listing under each pipeline, its records given `pipeline_id` and the composite `key`."""
    for pipeline_id in reach.pipeline_ids():
        body = reach.api.get_json(path.format(pipeline_id))
        yield [{**r, "pipeline_id": pipeline_id, key: f"{pipeline_id}:{r.get('id')}"}
               for r in data_of(body, path.format(pipeline_id))]


def _account(reach: Reach, path: str) -> Iterator[list[dict[str, Any]]]:
    yield data_of(reach.api.get_json(path), path)


SNAPSHOTS = (
    Snapshot("pipelines", "id", PIPELINE_COLUMNS, lambda reach: [reach.pipelines()], "id"),
    Snapshot("stages", "stage_key", STAGE_COLUMNS,
             lambda reach: _per_pipeline(reach, "/pipelines/{}/stages", "stage_key"),
             ("pipeline_id", "id")),
    Snapshot("pipeline_custom_fields", "field_key", PIPELINE_FIELD_COLUMNS,
             lambda reach: _per_pipeline(reach, "/pipelines/{}/custom_fields", "field_key"),
             ("pipeline_id", "id")),
    Snapshot("tags", "id", TAG_COLUMNS, lambda reach: _account(reach, "/accounts/tags"), "id"),
    Snapshot("custom_fields", "id", CUSTOM_FIELD_COLUMNS,
             lambda reach: _account(reach, "/accounts/custom_fields"), "id"),
    # Not read from Chatrace: the settings, loaded like a listing (a changed name loads, a
    # status no longer configured is marked deleted).
    Snapshot("order_statuses", "status", ORDER_STATUS_COLUMNS,
             lambda reach: [list(reach.options.order_statuses)], "status"),
)


# -- the opportunity listing and its transformers ----------------------------------------------

def opportunity_listing(reach: Reach) -> Iterator[Page | ScanEnd]:
    """Every opportunity page, then ScanEnd."""
    started = time.monotonic()
    end = ScanEnd()
    for pipeline_id in reach.pipeline_ids():
        path = f"/pipelines/{pipeline_id}/opportunities"
        for records in offset_pages(reach.api, path, reach.options.page_size, reach.options.concurrency):
            page = Page(pipeline_id, [{**r, "pipeline_id": pipeline_id} for r in records])
            end.opportunity_ids += [r["id"] for r in records if _is_int(r.get("id"))]
            end.contact_ids.update(dict.fromkeys(
                r["contact_id"] for r in records if _is_int(r.get("contact_id"))))
            yield page
    end.seconds = round(time.monotonic() - started, 3)
    yield end


def opportunities(item: Page | ScanEnd, reach: Reach) -> Iterator[pa.Table]:
    """A page's new and changed opportunities (the listing has no time filter: a client-side
    cursor judges them) and those the warehouse lacks; at ScanEnd the complete scan marks the
    unseen ones deleted."""
    state = dlt.current.resource_state()
    if reach.opportunity_cursor is None:  # dlt calls a transformer once per item
        reach.opportunity_cursor = scan_cursor(state, reach.options.lag_seconds)
    cursor, scan = reach.opportunity_cursor, reach.opportunity_scan()
    if isinstance(item, ScanEnd):
        cursor.commit()
        state["scan_seconds"] = item.seconds
        scan.finish()
        return
    for table in tables([item.records], reach.run.shape("opportunities", OPPORTUNITY_COLUMNS), "id",
                        deletable=True):
        scan.saw(table.column("id"))
        table = new_rows(table, "id", cursor, scan)
        if table.num_rows:
            yield table


def opportunity_comments(item: Page | ScanEnd, reach: Reach) -> Iterator[pa.Table]:
    """The comments not loaded yet of a page's new and changed opportunities (and those the
    warehouse lacks), or of all its opportunities on a full read (a new comment moves no
    `updated_at`)."""
    state = dlt.current.resource_state()
    if reach.comment_read is None:
        reach.comment_read = _start_comment_read(state, reach)
    read = reach.comment_read
    if isinstance(item, ScanEnd):
        read.cursor.commit()
        state["scan_seconds"] = item.seconds
        if read.full:
            state["last_full"] = read.started
        else:
            read.scan.saw(pa.array(item.opportunity_ids, pa.int64()))
        read.scan.finish()
        return
    changed = new_rows(_stamps(item.records), "id", read.cursor, reach.opportunity_scan())
    chosen = [r for r in item.records if _is_int(r.get("id"))] if read.full else \
        [{"id": i, "pipeline_id": item.pipeline_id} for i in changed.column("id").to_pylist()]
    records = _comments_of(reach.api, chosen, reach.options.page_size, reach.options.concurrency)
    loaded = (loaded_comment_ids(reach.run.warehouse, [r["id"] for r in chosen])
              if read.existed else pa.array([], pa.int64()))
    for table in tables([records], reach.run.shape("opportunity_comments", COMMENT_COLUMNS), "id",
                        deletable=True):
        if read.full:
            read.scan.saw(table.column("id"))
        fresh = table.filter(pc.invert(pc.is_in(table.column("id"), value_set=loaded)))
        if fresh.num_rows:
            state["loaded"] = True
            yield fresh


def _start_comment_read(state: dict[str, Any], reach: Reach) -> CommentRead:
    last_full = state.get("last_full")
    full = last_full is None or (datetime.now(timezone.utc) - datetime.fromisoformat(last_full)
                                 >= reach.options.comments_full_refresh)
    # A full read sees every comment: it marks single ones deleted. Otherwise comments are
    # marked through their opportunity.
    return CommentRead(full=full, started=iso_now(), existed=bool(state.get("loaded")),
                       cursor=scan_cursor(state, reach.options.lag_seconds),
                       scan=reach.run.scans.start("opportunity_comments",
                                                  "id" if full else "opportunity_id"))


def contacts(item: Page | ScanEnd, reach: Reach) -> Iterator[pa.Table]:
    """At ScanEnd, when the reached contacts are known: each read again, loaded if changed."""
    if not isinstance(item, ScanEnd):
        return
    state = dlt.current.resource_state()
    fingerprints = state.setdefault("fingerprints", {})
    scan = reach.run.scans.start("contacts", "id")
    scan.saw(pa.array(reach.plan("contacts", item).skipped(), pa.string()))  # by the budget: left as they are
    shape = reach.run.shape("contacts", CONTACT_COLUMNS)
    yield from tables(_contact_records(reach, item, shape.problems), shape, "id",
                      scan=scan, fingerprints=fingerprints, deletable=True)
    # Deleted contacts never come back under their id: forget them.
    seen = set(scan.seen().column("id").to_pylist())
    for contact_id in [c for c in fingerprints if c not in seen]:
        del fingerprints[contact_id]


def _contact_records(reach: Reach, end: ScanEnd,
                     problems: Counter[str]) -> Iterator[list[dict[str, Any]]]:
    """Every reached contact, read again; one that answers 404 is left out (the scan marks it)."""
    for batch in reach.each([int(c) for c in reach.plan("contacts", end).chosen],
                            lambda contact_id: f"/contacts/{contact_id}"):
        records = []
        for _contact_id, body in batch:
            if isinstance(body, dict):
                records.append(contact_record(body))
            elif body is not None:
                problems["contact: answer is not an object"] += 1
        yield records


def orders(item: Page | ScanEnd, reach: Reach) -> Iterator[pa.Table]:
    """At ScanEnd: the reached contacts' carts and the open orders seen before, loaded if changed."""
    if not isinstance(item, ScanEnd):
        return
    state = dlt.current.resource_state()
    # Orders go with their contact: those of contacts whose cart answered are live.
    scan = reach.run.scans.start("orders", "contact_id")
    yield from tables(_order_records(reach, item, scan), reach.run.shape("orders", ORDER_COLUMNS),
                      "order_id", fingerprints=state.setdefault("fingerprints", {}), deletable=True)
    scan.finish()


def _order_records(reach: Reach, end: ScanEnd, scan: Scan) -> Iterator[list[dict[str, Any]]]:
    """Each reached contact's cart, then by id the open orders seen before that are no cart
    now."""
    carts: set[str] = set()
    plan = reach.plan("orders", end)
    scan.saw(pa.array([int(c) for c in plan.skipped()], pa.int64()))  # by the budget: left as they are
    for batch in reach.each([int(c) for c in plan.chosen], lambda contact_id: f"/contacts/{contact_id}/cart"):
        scan.saw(pa.array([cid for cid, body in batch if body is not None], pa.int64()))
        records = [order_record(body) for _cid, body in batch
                   if isinstance(body, dict) and body.get("order_id") is not None]
        carts.update(str(r["order_id"]) for r in records)
        yield records
    contact_of = {order_id: cid for order_id, cid in reach.open_orders() if order_id not in carts}
    chosen = reach.refresh("open_orders", [Candidate(order_id) for order_id in contact_of], within="orders").chosen
    pending = [(order_id, contact_of[order_id]) for order_id in chosen]
    for order_batch in reach.each(pending, lambda order: f"/contacts/{order[1]}/order/{order[0]}"):
        yield [order_record(body) for _order, body in order_batch if isinstance(body, dict)]


def _comments_of(api: ApiClient, opportunities: Sequence[dict[str, Any]], page_size: int,
                 concurrency: int) -> list[dict[str, Any]]:
    """Every comment of these opportunities ({id, pipeline_id}), each tagged with both."""

    def fetch(opportunity: dict[str, Any]) -> list[dict[str, Any]]:
        path = f"/pipelines/{opportunity['pipeline_id']}/opportunities/{opportunity['id']}/comments"
        found: list[dict[str, Any]] = []
        listing = Listing(api, path)
        while True:  # almost always one page
            body = api.get_json(path, {"offset": len(found), "limit": page_size}, accept=(404,))
            if body is None:  # deleted since the listing: the next scan marks it
                return found
            page = listing.page(data_of(body, f"GET {path}"))
            found += page
            if len(page) < page_size:
                return found

    if not opportunities:
        return []
    with ThreadPoolExecutor(concurrency) as pool:
        answers = pool.map(fetch, opportunities)
        return [{**comment, "opportunity_id": o["id"], "pipeline_id": o["pipeline_id"]}
                for o, comments in zip(opportunities, answers) for comment in comments]


def _stamps(records: list[dict[str, Any]]) -> pa.Table:
    """id and updated_at of a page of opportunities (the comments' own cursor judges them)."""
    table = Shape(OPPORTUNITY_STAMP_COLUMNS).table(
        [{"id": r.get("id"), "pipeline_id": r.get("pipeline_id"), "updated_at": r.get("updated_at")}
         for r in records])
    return table.filter(pc.is_valid(table.column("id")))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# The descriptor is made last: the push client module imports this package's api_client.
from crmsync.sources.chatrace import push  # noqa: E402
from crmsync.sources.chatrace.settings import SETTINGS  # noqa: E402

HERE = Path(__file__).parent
PROVIDER = Provider(
    name="chatrace",
    settings=SETTINGS,
    build_source=build_source,
    push_client=push.push_client,
    push=PushRule("tag", identity=str.casefold),  # tag names ignore case
    lookup=True,
    full_scan={"comments_full_refresh_hours": 0},  # a new comment moves no opportunity
    emulator="crmsync.sandbox.providers.chatrace:Chatrace",
    staging=HERE / "staging",
    known_people=HERE / "known_people.sql",
    push_seen=HERE / "push_seen.sql",
    dictionary=HERE / "raw.toml",
)
