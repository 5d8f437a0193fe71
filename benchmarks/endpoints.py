"""What a full sync of the two paged providers reads, as plain endpoint lists: the floor and
the declarative source are built from these, so all three read the same pages. The lists
follow what crmsync's sources read (sources/chatman, sources/whautomate); the benchmark
compares the request counts per route against the sandbox's stats to show they agree. And
what any client must read in a Chatman rerun (`chatman_rerun`), the floor of that rerun."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from crmsync.sources.chatman.helpers import iso

from crmsync.sandbox import credentials
from crmsync.sandbox.providers.chatman import CAMPAIGN_IDS


@dataclass(frozen=True)
class Endpoint:
    table: str
    path: str  # relative to the provider's base URL; "{id}" is each parent record's id
    key: str
    paging: str  # "cursor" (Chatman `next`/`after`), "page" (Whautomate bare arrays), "single"
    params: dict[str, Any] = field(default_factory=dict)
    per_record_of: str | None = None  # one request per record of that table (Whautomate messages)
    method: str = "GET"  # Chatman's segment evaluate reads with a POST


@dataclass(frozen=True)
class PagedApi:
    provider: str
    prefix: str  # the sandbox mounts the provider here
    headers: dict[str, str]
    endpoints: tuple[Endpoint, ...]


def chatman(page_size: int) -> PagedApi:
    listing = {"limit": page_size}
    campaigns = tuple(Endpoint("campaign_events", f"events/campaigns/{cid}/", "event_id", "cursor", listing)
                      for cid in CAMPAIGN_IDS)
    return PagedApi("chatman", "/chatman/v1/public-apis",
                    {"Authorization": f"Bearer {credentials.CHATMAN_API_KEY}"}, (
                        Endpoint("contacts", "contacts/", "user_id", "cursor", {**listing, "mode": "all"}),
                        Endpoint("triggered_events", "events/custom/triggered/", "event_id", "cursor", listing),
                        *campaigns,
                        Endpoint("segments", "segments/", "segment_id", "cursor", listing),
                        # The answer does not carry its segment's id: keyed by the parent's id,
                        # as dlt names a field included from the parent resource.
                        Endpoint("segment_members", "segments/{id}/evaluate/", "_segments_segment_id", "single",
                                 per_record_of="segments", method="POST"),
                        Endpoint("journeys", "journeys/", "journey_id", "cursor", listing),
                        Endpoint("custom_event_types", "events/custom/", "event_name", "single"),
                    ))


def chatman_rerun(page_size: int, since: datetime) -> PagedApi:
    """What any client of the contract must ask for to see every change since `since` (its
    last run): the contacts modified and created since (the contract leaves a new contact's
    modified_at open), the triggered events since, and every page of every campaign and of the
    small listings, which have no time filter."""
    full = chatman(page_size)
    window = {"start_time": iso(since)}
    contacts, triggered, *rest = full.endpoints
    return replace(full, endpoints=(
        *(replace(contacts, params={**contacts.params, "mode": mode, **window}) for mode in ("modified", "new")),
        replace(triggered, params={**triggered.params, **window}),
        *rest,
    ))


def whautomate(page_size: int) -> PagedApi:
    listing = {"limit": page_size}
    return PagedApi("whautomate", "/whautomate/v1", {"x-api-key": credentials.WHAUTOMATE_API_KEY}, (
        Endpoint("contacts", "contacts", "id", "page", listing),
        Endpoint("messages", "messages/{id}", "id", "single", per_record_of="contacts"),
        Endpoint("clients", "clients", "id", "page", listing),
        Endpoint("contact_tags", "contactTags", "id", "page", listing),
        Endpoint("segments", "segments", "id", "page", listing),
    ))


PAGED_APIS = {"chatman": chatman, "whautomate": whautomate}
RERUN_APIS = {"chatman": chatman_rerun}
