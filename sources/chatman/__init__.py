"""Chatman: contacts and triggered events through server-side time windows, campaign
events for configured campaigns, segments and their members, journeys and custom event types.

Contacts: `mode=modified` from the modified_at cursor and `mode=new` from the created_at
cursor, each minus a lag (late writes), so a run with no change asks for almost nothing and a
new contact whose modified_at is older than the modified window still comes; the first run,
and one every `full_scan_hours`, is a `mode=all` scan that also marks the contacts that
disappeared as deleted and loads every contact the warehouse lacks, whatever its timestamps.
Campaign events have no time filter: each run scans the configured campaigns and keeps what is
new.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import dlt
import pyarrow as pa
import pyarrow.compute as pc
from crmsync.kernel.provider import Provider, PushRule
from crmsync.sources.chatman.helpers import (
    CAMPAIGN_EVENT_COLUMNS,
    CONTACT_COLUMNS,
    EVENT_TYPE_COLUMNS,
    JOURNEY_COLUMNS,
    SEGMENT_COLUMNS,
    SEGMENT_MEMBER_COLUMNS,
    TRIGGERED_EVENT_COLUMNS,
    iso,
)
from crmsync.sources.common.cursor import Cursor, Watched
from crmsync.sources.common.http import ApiClient, Bounds
from crmsync.sources.common.paging import cursor_pages, side_by_side
from crmsync.sources.common.resources import ROWS_PER_ITEM, tables
from crmsync.sources.common.run import SyncRun
from dlt.sources import DltResource, DltSource

# Campaigns read at once, each at most this many pages ahead of the conversion: a rerun reads
# every campaign page (no time filter), so these overlap; the pages held stay bounded.
CAMPAIGNS_AT_ONCE = 4
PAGES_AHEAD = 16


def build_source(settings: dict[str, Any], run: SyncRun) -> DltSource:
    api = api_client(settings, run)
    return chatman_source(api, run, settings["page_size"], settings["campaign_ids"],
                          settings["lag_seconds"], settings["full_scan_hours"])


def api_client(settings: dict[str, Any], run: SyncRun) -> ApiClient:
    """The one client of a run (sync or push): one rate budget for every request."""
    return run.client(ApiClient(
        "chatman", settings["base_url"], auth_setting="api_key",
        headers={"Authorization": f"Bearer {settings['api_key']}"},
        per_second=settings["requests_per_second"], bounds=Bounds.of(settings)))


@dlt.source(name="chatman", max_table_nesting=0)
def chatman_source(
    api: ApiClient,
    run: SyncRun,
    page_size: int,
    campaign_ids: Sequence[str],
    lag_seconds: int,
    full_scan_hours: float,
) -> list[DltResource]:
    lag = timedelta(seconds=lag_seconds)
    listing = {"limit": page_size}
    shape, scans = run.shape, run.scans

    def since(mode: str, cursor: Cursor) -> Iterable[list]:
        """The contacts of a `mode` window from the cursor's start (all of them before any)."""
        start = {"start_time": iso(cursor.start)} if cursor.start else {}
        return cursor_pages(api, "/contacts/", {**listing, "mode": mode, **start})

    @dlt.resource(name="contacts", primary_key="user_id", write_disposition="merge", parallelized=True)
    def contacts() -> Iterator[pa.Table]:
        state = dlt.current.resource_state()
        now = datetime.now(timezone.utc)
        last_full = state.get("last_full_scan")
        modified = Cursor(state.setdefault("modified", {}), "user_id", "modified_at", lag)
        # Where mode=new windows start; a state without it (before mode=new was read) scans.
        fresh = "created" not in state
        created = Cursor(state.setdefault("created", {}), "user_id", "created_at", lag)
        contact_shape = shape("contacts", CONTACT_COLUMNS)
        if fresh or last_full is None or \
                now - datetime.fromisoformat(last_full) >= timedelta(hours=full_scan_hours):
            pages = cursor_pages(api, "/contacts/", {**listing, "mode": "all"})
            yield from tables(pages, contact_shape, "user_id", cursor=Watched(modified, created),
                              scan=scans.start("contacts", "user_id"), deletable=True,
                              batch_rows=ROWS_PER_ITEM)
            state["last_full_scan"] = now.isoformat()
            return
        loaded: list[pa.ChunkedArray] = []
        for table in tables(since("modified", modified), contact_shape, "user_id", cursor=modified,
                            deletable=True, batch_rows=ROWS_PER_ITEM):
            loaded.append(table.column("user_id"))
            yield table
        # The contract leaves a new contact's modified_at open: it may be older than the
        # modified window (an import keeping its own), so the new contacts are read too.
        seen = pa.chunked_array([c for ids in loaded for c in ids.chunks], pa.string()).combine_chunks()
        for table in tables(since("new", created), contact_shape, "user_id", cursor=created,
                            deletable=True, batch_rows=ROWS_PER_ITEM):
            table = table.filter(pc.invert(pc.is_in(table.column("user_id"), value_set=seen)))
            if table.num_rows:  # not the ones the modified window brought already
                yield table

    @dlt.resource(name="triggered_events", primary_key="event_id", write_disposition="merge",
                  parallelized=True)
    @run.fails_alone("triggered_events")
    def triggered_events() -> Iterator[pa.Table]:
        cursor = Cursor(dlt.current.resource_state(), "event_id", "triggered_at", lag)
        window = {**listing, "start_time": iso(cursor.start)} if cursor.start else dict(listing)
        pages = cursor_pages(api, "/events/custom/triggered/", window)
        yield from tables(pages, shape("triggered_events", TRIGGERED_EVENT_COLUMNS), "event_id",
                          cursor=cursor, batch_rows=ROWS_PER_ITEM)

    @dlt.resource(name="campaign_events", primary_key="event_id", write_disposition="merge",
                  parallelized=True)
    @run.fails_alone("campaign_events")
    def campaign_events() -> Iterator[pa.Table]:
        state = dlt.current.resource_state()
        # No time filter: every page of every campaign each run, so the campaigns are read side
        # by side (converted one after the other, each with its own cursor).
        readers = [lambda campaign_id=campaign_id: cursor_pages(api, f"/events/campaigns/{campaign_id}/", listing)
                   for campaign_id in campaign_ids]
        for campaign_id, pages in zip(campaign_ids, side_by_side(readers, CAMPAIGNS_AT_ONCE, PAGES_AHEAD)):
            cursor = Cursor(state.setdefault(campaign_id, {}), "event_id", "occurred_at", lag)
            yield from tables(pages, shape("campaign_events", CAMPAIGN_EVENT_COLUMNS), "event_id",
                              cursor=cursor, batch_rows=ROWS_PER_ITEM)

    def snapshot(name: str, key: str, columns: tuple, pages: Callable[[], Iterable[list]]) -> DltResource:
        """Small listings with no timestamp to follow: read whole each run, load what changed,
        mark what vanished. Each fails alone: the contacts need none of them."""

        @run.fails_alone(name)
        def rows() -> Iterator[pa.Table]:
            fingerprints = dlt.current.resource_state().setdefault("fingerprints", {})
            yield from tables(pages(), shape(name, columns), key, scan=scans.start(name, key),
                              fingerprints=fingerprints, deletable=True)

        return dlt.resource(rows, name=name, primary_key=key, write_disposition="merge")

    listed: list[list] = []

    def segment_pages() -> list[list]:
        """The segments, listed once a run for both resources that read them (a few pages);
        kept only once the listing is whole (a partial one would mark members deleted)."""
        if not listed:
            listed.extend(list(cursor_pages(api, "/segments/", listing)))
        return listed

    def segment_members() -> Iterable[list]:
        """Every segment's members, a page per segment: evaluate is a POST that reads."""
        for page in segment_pages():
            for segment in page:
                response = api.request("POST", f"/segments/{segment['segment_id']}/evaluate/", accept=(404,))
                if response.status_code != 404:  # 404: deleted since it was listed
                    yield [{"segment_id": segment["segment_id"], "user_ids": response.json().get("user_ids", [])}]

    def event_types() -> Iterable[list]:
        body: Any = api.get_json("/events/custom/")
        yield body.get("results", []) if isinstance(body, dict) else body

    return [
        contacts,
        triggered_events,
        campaign_events,
        snapshot("segments", "segment_id", SEGMENT_COLUMNS, segment_pages),
        snapshot("segment_members", "segment_id", SEGMENT_MEMBER_COLUMNS, segment_members),
        snapshot("journeys", "journey_id", JOURNEY_COLUMNS,
                 lambda: cursor_pages(api, "/journeys/", listing)),
        snapshot("custom_event_types", "event_name", EVENT_TYPE_COLUMNS, event_types),
    ]


# The descriptor is made last: the push client module imports this package's api_client.
from crmsync.sources.chatman import push  # noqa: E402
from crmsync.sources.chatman.settings import SETTINGS  # noqa: E402

HERE = Path(__file__).parent
PROVIDER = Provider(
    name="chatman",
    settings=SETTINGS,
    build_source=build_source,
    push_client=push.push_client,
    push=PushRule("segment"),
    full_scan={"full_scan_hours": 0},  # the contacts' mode=all scan, which marks deletions
    emulator="crmsync.sandbox.providers.chatman:Chatman",
    staging=HERE / "staging",
    known_people=HERE / "known_people.sql",
    push_seen=HERE / "push_seen.sql",
    dictionary=HERE / "raw.toml",
)
