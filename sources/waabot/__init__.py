"""Waabot: contact records and contact groups.

What is read (dataset raw_waabot):
- `contacts` (key `id`, Waabot's `_id`): `GET /contact?type=all`, every record of the account,
  including those of the account's other clients. One record per person per group: the same
  person shows once per group they are in. `number` is free text and loaded exactly as sent
  (junk such as `status` or a message template included); `transaction` is spread into
  `survey_id`, `survey_sort_id`; `__v` is `version`; `createdAt`/`updatedAt` are timestamps.
- `contact_groups` (key `id`): `GET /contact_groups`, the account's groups (title,
  `is_default`, client). The groups of the account's other clients are not listed: their ids
  only show in `contacts.group_id`.

Session: one `POST /sessions` per run (email, password) gives an access and a refresh token,
sent on every request (`Authorization: Bearer`, `x-refresh`). The access token lives 15
minutes; when a response carries a renewed one in `x-access-token`, it is used from then on,
so a long run never logs in again. The instance credentials (`session_id`, `access_token`)
travel in the query string on GET (or a JSON body: `instance_credentials_in`).

How it is incremental: the API has no paging and no time filter; the contact listing is the
whole account in one response, newest `createdAt` first. Every run reads it whole (its cost
is that one response: about 150 bytes per record, so ~150 MB at a million records), parses
and converts it `chunk_size` records at a time (the body is held once, its records only a
chunk at a time), and a client-side cursor on `updatedAt` (reaching back `lag_seconds`, for
writes that land while the listing is read) keeps only the records that are new or changed,
and those the warehouse lacks or holds as deleted: a run with no change loads nothing. The order cannot end the read early:
it is by creation, not by change, and deletions need the complete listing anyway. Groups are
few and read whole; only those whose content changed are loaded.

Deletions: the API exposes none. Each run's listing is complete, so the contacts and groups
it did not show are marked deleted (`deleted_at`, the row kept); one that shows again is live.

What the API cannot give: changes since a time (every run downloads every record), pages
(memory holds the whole body once), deletions, the groups of the account's other clients, who
a record belongs to beyond its free-text `number` (a person in three groups is three
records), and any email.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import dlt
import pyarrow as pa
from crmsync.kernel.provider import Provider, PushRule
from crmsync.sources.common.cursor import Cursor
from crmsync.sources.common.http import ApiClient
from crmsync.sources.common.resources import tables
from crmsync.sources.common.run import SyncRun
from crmsync.sources.waabot.helpers import (
    CONTACT_COLUMNS,
    GROUP_COLUMNS,
    Instance,
    instance,
    open_session,
)
from dlt.sources import DltResource, DltSource


def build_source(settings: dict[str, Any], run: SyncRun) -> DltSource:
    credentials = instance(settings)  # a bad setting fails before the login
    return waabot_source(open_session(settings, run), run, credentials,
                         settings["lag_seconds"], settings["chunk_size"])


@dlt.source(name="waabot", max_table_nesting=0)
def waabot_source(api: ApiClient, run: SyncRun, credentials: Instance, lag_seconds: int,
                  chunk_size: int) -> list[DltResource]:
    shape, scans = run.shape, run.scans

    @dlt.resource(name="contacts", primary_key="id", write_disposition="merge")
    def contacts() -> Iterator[pa.Table]:
        cursor = Cursor(dlt.current.resource_state().setdefault("updated", {}), "id", "updated_at",
                        timedelta(seconds=lag_seconds))
        scan = scans.start("contacts", "id")
        pages = credentials.chunks(api, "/contact", {"type": "all"}, chunk_size)
        yield from tables(pages, shape("contacts", CONTACT_COLUMNS), "id", cursor=cursor,
                          scan=scan, deletable=True)

    @dlt.resource(name="contact_groups", primary_key="id", write_disposition="merge")
    @run.fails_alone("contact_groups")
    def contact_groups() -> Iterator[pa.Table]:
        """A handful of records: read whole each run, load those whose content changed."""
        fingerprints = dlt.current.resource_state().setdefault("fingerprints", {})
        scan = scans.start("contact_groups", "id")
        groups = credentials.get(api, "/contact_groups")
        yield from tables([groups], shape("contact_groups", GROUP_COLUMNS), "id", scan=scan,
                          fingerprints=fingerprints, deletable=True)

    return [contacts, contact_groups]


# The descriptor is made last: the push client module imports this package's api_client.
from crmsync.sources.waabot import push  # noqa: E402
from crmsync.sources.waabot.settings import SETTINGS  # noqa: E402

HERE = Path(__file__).parent
PROVIDER = Provider(
    name="waabot",
    settings=SETTINGS,
    build_source=build_source,
    push_client=push.push_client,
    # A group membership is a contact record created in the group: anyone can be pushed.
    push=PushRule("group", creates_contacts=True),
    lists_everything=True,  # one listing of every record, every run
    emulator="crmsync.sandbox.providers.waabot:Waabot",
    staging=HERE / "staging",
    known_people=HERE / "known_people.sql",
    push_seen=HERE / "push_seen.sql",
    dictionary=HERE / "raw.toml",
)
