"""A provider from outside crmsync: a tiny CRM with contacts and tags, its source, push
client, staging model and sandbox emulator. Installed with an entry point in the group
`crmsync.providers` (`toy = crmsync_toy:PROVIDER`), it syncs, transforms and pushes with no
file of crmsync edited: this is what a provider package looks like."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dlt
from dlt.sources import DltResource, DltSource

from crmsync.kernel.provider import Provider, PushRule, Setting
from crmsync.sources.common.http import ApiClient
from crmsync_toy.push import ToyPush

HERE = Path(__file__).parent
SETTINGS = (
    Setting("base_url"),
    Setting("api_key", secret=True),  # sent as the x-toy-key header
    Setting("requests_per_second", default=0.0),
)


def api_client(settings: dict[str, Any], run: Any) -> ApiClient:
    return run.client(ApiClient("toy", settings["base_url"], auth_setting="api_key",
                                headers={"x-toy-key": settings["api_key"]},
                                per_second=settings["requests_per_second"]))


def contacts(api: ApiClient) -> DltResource:
    def pages() -> Iterator[list[dict[str, Any]]]:
        page = 1
        while True:
            body = api.get_json("/contacts", {"page": page})
            yield body["results"]
            if not body["next"]:
                return
            page += 1

    return dlt.resource(pages, name="contacts", primary_key="id", write_disposition="merge")


@dlt.source(name="toy", max_table_nesting=0)
def toy_source(api: ApiClient) -> list[DltResource]:
    return [contacts(api)]


def build_source(settings: dict[str, Any], run: Any) -> DltSource:
    return toy_source(api_client(settings, run))


def push_client(settings: dict[str, Any], run: Any) -> ToyPush:
    return ToyPush(api_client(settings, run))


PROVIDER = Provider(
    name="toy",
    settings=SETTINGS,
    build_source=build_source,
    push_client=push_client,
    push=PushRule("tag"),
    emulator="crmsync_toy.emulator:ToyEmulator",
    staging=HERE / "staging",
    known_people=HERE / "known_people.sql",
)
