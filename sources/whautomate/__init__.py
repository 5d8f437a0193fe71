"""Whautomate: contacts, clients, contact tags, segments and the contacts' messages.

What is read (dataset raw_whautomate):
- `contacts` (key `id`): GET /contacts, every page; `location_id`, `custom_fields` as JSON
  text, `tags` as a list, `created_at`, `updated_at`, `last_activity`.
- `clients` (key `id`): GET /clients, every page; `primary_location_id` and `_title`.
- `contact_tags` (key `id`): the /contactTags definitions (name, canonical form). Hand-made
  tags typed on contacts in the app have no definition until one is added through the API:
  they only show in `contacts.tags`.
- `segments` (key `id`): GET /segments, criteria as JSON text.
- `messages` (key `id`, with `contact_id`): GET /messages/{contactId}.

How it is incremental: the API has no time filter and no total, and its listings are bare
arrays, newest `createdAt` first, ended by an empty array. So every run is a full scan of
contacts, clients, tags and segments, `concurrency` pages in flight within the rate budget
(`requests_per_second`, default the documented 300/minute). A client-side cursor on
`updatedAt` keeps only the records that changed, and those the warehouse lacks or holds as
deleted (segments, which carry no timestamps: only those whose content changed); its window reaches back `lag_seconds` plus the whole duration
of the previous scan, because a record changed after the scan read its page carries an older
stamp than the newest one that scan saw (so the run after a scan longer than the one before
it may load again, once, a few records that changed during that scan). A run with no change
loads nothing but still costs one request per page: 500,000 contacts are 5,000 pages, about
17 minutes at 5 requests/s, before any message. Past the pages the warehouse's live rows say
a listing takes, a page is asked only once the one before came back with records
(helpers.ReadAhead): reading `concurrency` pages ahead would otherwise ask for pages past the
empty one that ends the listing, every run. A live record the complete scan did not show is read alone
(GET /contacts/{id}, /clients/{id}, ...): a 404 marks it deleted (`deleted_at`; the messages
of a deleted contact with it), an answer means a listing that shifted under a deletion
skipped it, and it loads as it is now. Records created during a scan shift later pages the
other way, so one may be read twice: merge on the key keeps one row, and the new record
itself is read by the next run. (pipelines/sync.py also revives a row that comes back.)

Messages: there is no message listing, only one request per contact. They are read for every
contact the cursor keeps (new, or `updatedAt` moved), in the run that sees it, whatever the
budget. The contract does not say that a new message moves `updatedAt`, so once the contacts
listing is complete (ListingEnd) the messages of unchanged contacts are re-read too, as far as
the run's `run_budget` goes after every page (sources.common.budget: the stalest, never
checked, and those whose person changed in another provider first; each confirmed in
`ops.confirmed`), so every contact's messages are re-read within ceil(contacts / floor(k/2))
runs, k the contacts the budget leaves a run. Only the messages not already in the
warehouse are loaded. At the
documented 300 requests/minute the first full load of a large account takes hours:
requests / rate, e.g. 500,000 contacts = 500,000 message requests + 5,000 pages of 100 =
505,000 requests / 5 per second = about 28 hours (about 5.8 days at the trial's 60/minute).
Later runs add one request per new or changed contact (a change that brought no message
costs one too: the API does not say which changes did), one per deleted record, and the
budget's re-reads.

What the API cannot give: changes since a time (so every run reads every page), deletions
(inferred from full scans), the definitions of client tags and of hand-made contact tags, a
message listing, and any sign of a single message deleted from a contact that did not change
otherwise (messages are only marked deleted with their contact).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import dlt
import pyarrow as pa
import pyarrow.compute as pc
from crmsync.kernel.provider import Provider, PushRule
from crmsync.sources.common import budget
from crmsync.sources.common.cursor import scan_cursor
from crmsync.sources.common.http import ApiClient, Bounds
from crmsync.sources.common.known_people import changed_at as known_people_changed_at
from crmsync.sources.common.records import Column
from crmsync.sources.common.resources import ROWS_PER_ITEM, tables
from crmsync.sources.common.run import SyncRun
from crmsync.sources.common.scans import Scan
from crmsync.sources.whautomate.helpers import (
    CLIENT_COLUMNS,
    CONTACT_COLUMNS,
    CONTACT_PEOPLE,
    CONTACT_TAG_COLUMNS,
    MESSAGE_COLUMNS,
    SEGMENT_COLUMNS,
    ListingEnd,
    ListingPages,
    MessageLog,
    MessagesScan,
    fetch_messages,
    listing,
    loaded_message_ids,
    still_existing,
    unseen_ids,
)
from dlt.sources import DltResource, DltSource


def build_source(settings: dict[str, Any], run: SyncRun) -> DltSource:
    return whautomate_source(api_client(settings, run), run, settings["page_size"],
                             max(1, settings["concurrency"]), settings["lag_seconds"],
                             budget.run_budget("whautomate", settings))


def api_client(settings: dict[str, Any], run: SyncRun) -> ApiClient:
    """The one client of a run: its rate budget is shared by every page and message request."""
    return run.client(ApiClient(
        "whautomate", settings["base_url"], auth_setting="api_key",
        headers={"x-api-key": settings["api_key"]}, per_second=settings["requests_per_second"], bounds=Bounds.of(settings)))


LISTINGS = {"contacts": "/contacts", "clients": "/clients", "contact_tags": "/contactTags", "segments": "/segments"}


@dlt.source(name="whautomate", max_table_nesting=0)
def whautomate_source(api: ApiClient, run: SyncRun, page_size: int, concurrency: int,
                      lag_seconds: int, run_budget: int | None) -> list[DltResource]:
    shape, scans = run.shape, run.scans
    log = MessageLog()
    progress = ListingPages(run.warehouse, page_size)

    def pages(name: str) -> Iterator[list[dict[str, Any]]]:
        for page in listing(api, LISTINGS[name], page_size, concurrency, progress.expected(name)):
            progress.read[name] += 1
            yield page
        progress.done.add(name)

    def scan_rows(name: str, columns: tuple[Column, ...], stamped: bool = True,
                  on_start: Callable[[Scan], None] | None = None) -> Generator[pa.Table, None, Scan]:
        """A full scan keeping only the records that changed: updatedAt moved (`stamped`), or
        else their content differs from the last run's; returns the scan."""
        state = dlt.current.resource_state(name)
        started = time.monotonic()
        existed = bool(state.get("loaded"))
        scan = scans.start(name, "id")
        if on_start is not None:
            on_start(scan)
        table_shape = shape(name, columns)
        changed: dict[str, Any] = (
            {"cursor": scan_cursor(state, lag_seconds)} if stamped
            else {"fingerprints": state.setdefault("fingerprints", {})})
        for table in tables(pages(name), table_shape, "id", scan=scan, deletable=True,
                            batch_rows=ROWS_PER_ITEM, **changed):
            state["loaded"] = True  # the table exists: later runs check what scans skip
            yield table
        if existed:  # (after a full refresh the old table goes at load: nothing to check)
            yield from tables([skipped(name, scan)], table_shape, "id", scan=scan,
                              deletable=True, fingerprints=changed.get("fingerprints"))
        state["scan_seconds"] = round(time.monotonic() - started, 3)
        return scan

    def scanned(name: str, columns: tuple[Column, ...], stamped: bool = True) -> DltResource:
        """A listing loaded as it is scanned; one that fails fails its resource alone."""

        @run.fails_alone(name)
        def rows() -> Iterator[pa.Table]:
            yield from scan_rows(name, columns, stamped)

        return dlt.resource(rows, name=name, primary_key="id", write_disposition="merge")

    def skipped(name: str, scan: Scan) -> list[dict[str, Any]]:
        """Live records the listing did not show, read one by one: a 404 was deleted; one
        that answers was skipped by a listing that shifted under a deletion while it was
        read, and loads as it is now (its change may be older than the cursor's window)."""
        with ThreadPoolExecutor(concurrency) as pool:
            return still_existing(api, pool, LISTINGS[name], unseen_ids(run.warehouse, name, scan))

    def follow_with_messages(contacts_scan: Scan) -> None:
        log.existed = bool(dlt.current.source_state().get("messages_loaded"))
        scans.scans.append(MessagesScan(contacts_scan, log))

    # The contacts listing is read once, by a resource that is not loaded, and followed by the
    # loaded contacts and by the messages (which, at ListingEnd, know every contact). It fails
    # the run, not alone: messages are read for the contacts this run loads, whose cursor moves
    # on (messages a failure missed would never be asked again).
    def listed_contacts() -> Iterator[pa.Table | ListingEnd]:
        scan = yield from scan_rows("contacts", CONTACT_COLUMNS, on_start=follow_with_messages)
        yield ListingEnd([str(i) for i in scan.seen().column("id").to_pylist()])

    contact_listing = dlt.resource(listed_contacts, name="contact_listing", selected=False)

    @dlt.transformer(name="contacts", data_from=contact_listing, primary_key="id", write_disposition="merge")
    def contacts(item: pa.Table | ListingEnd) -> Iterator[pa.Table]:
        if isinstance(item, pa.Table):
            yield item

    @dlt.transformer(name="messages", data_from=contact_listing, primary_key="id",
                     write_disposition="merge")
    def messages(item: pa.Table | ListingEnd) -> Iterator[pa.Table]:
        """The messages of one batch of new or changed contacts (pages joined: dlt's cost per
        item and the warehouse look-up are paid per batch); at ListingEnd, those of unchanged
        contacts as far as the run's budget goes (budget.plan: the API does not say that a new
        message moves a contact's updatedAt)."""
        if isinstance(item, pa.Table):
            contact_ids = [str(v) for v in item.column("id").to_pylist()]
            log.changed += contact_ids
            yield from read_messages(contact_ids)
            return
        # The listings still running will spend their pages too.
        spent = api.requests + progress.still_to_read([t for t in LISTINGS if t != "contacts"])
        changed = known_people_changed_at(run.warehouse, exclude="whautomate")
        refresh = run.refreshes.add(budget.plan(
            run.warehouse, "whautomate", "messages",
            budget.candidates(run.warehouse, "raw_whautomate", CONTACT_PEOPLE, item.seen, None),
            budget.capacity(run_budget, spent, 1), changed, required=list(dict.fromkeys(log.changed))))
        read = set(log.changed)
        unchanged = [key for key in refresh.chosen if key not in read]
        for start in range(0, len(unchanged), ROWS_PER_ITEM):
            yield from read_messages(unchanged[start:start + ROWS_PER_ITEM])

    def read_messages(contact_ids: list[str]) -> Iterator[pa.Table]:
        """These contacts' messages, minus those loaded before."""
        if not contact_ids:
            return
        messages_shape = shape("messages", MESSAGE_COLUMNS)
        with ThreadPoolExecutor(concurrency) as pool:
            records = fetch_messages(api, pool, contact_ids, messages_shape.problems)
        # After a full refresh the old table is still there until the load drops it.
        loaded = loaded_message_ids(run.warehouse, contact_ids) if log.existed else pa.array([], pa.string())
        for table in tables([records], messages_shape, "id", deletable=True):
            fresh = table.filter(pc.invert(pc.is_in(table.column("id"), value_set=loaded)))
            if fresh.num_rows:
                log.yielded = True
                dlt.current.source_state()["messages_loaded"] = True
                yield fresh

    return [
        contact_listing,
        contacts,
        messages,
        scanned("clients", CLIENT_COLUMNS),
        scanned("contact_tags", CONTACT_TAG_COLUMNS),
        scanned("segments", SEGMENT_COLUMNS, stamped=False),  # no timestamps
    ]


# The descriptor is made last: the push client module imports this package's api_client.
from crmsync.sources.whautomate import push  # noqa: E402
from crmsync.sources.whautomate.settings import SETTINGS  # noqa: E402

HERE = Path(__file__).parent
PROVIDER = Provider(
    name="whautomate",
    settings=SETTINGS,
    build_source=build_source,
    push_client=push.push_client,
    push=PushRule("tag", identity=push.canonical_tag),
    emulator="crmsync.sandbox.providers.whautomate:Whautomate",
    staging=HERE / "staging",
    known_people=HERE / "known_people.sql",
    push_seen=HERE / "push_seen.sql",
    dictionary=HERE / "raw.toml",
)
