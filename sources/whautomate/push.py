"""Whautomate push-back: a tag named after the segment on each member's contact.

Whautomate has no segment membership: its segments are built from tags, so the target is the
tag name itself. `resolve_target` makes no call: adding a tag to a contact defines it (the
contactTag is created with the first add), so there is nothing to look up or create first.
add/remove: `POST /contacts/{id}/tags/add|remove {"tags": [name]}`; adding a tag the contact
has, or removing one it lacks, changes nothing (idempotent). A member with no Whautomate
contact, or whose contact is gone (404), is rejected on add ("not in Whautomate"); on remove
a contact that is gone carries no tag: ok.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from crmsync.kernel.push import Member, Outcome, PushTarget
from crmsync.sources.common.http import ApiClient
from crmsync.sources.common.run import SyncRun
from crmsync.sources.whautomate import api_client


def canonical_tag(name: str) -> str:
    """What Whautomate tells tags apart by: lower case, anything else than letters and digits
    as one dash."""
    return re.sub(r"[\W_]+", "-", name.casefold()).strip("-")


class WhautomatePush:
    provider = "whautomate"
    batch_size = 1  # one contact per call

    def __init__(self, api: ApiClient, concurrency: int) -> None:
        self.api = api
        self.concurrency = max(concurrency, 1)

    def resolve_target(self, target: PushTarget, create: bool) -> str:
        """The tag name: tags need no creating before use (see above)."""
        return target.name

    def add(self, target_id: str, members: list[Member]) -> list[Outcome]:
        return [self._tag(target_id, m, m.contact_id, "add") for m in members]

    def remove(self, target_id: str, members: list[Member], records: list[str | None]) -> list[Outcome]:
        # The tag is on the contact it was put on (the record), else the live one.
        return [self._tag(target_id, m, record or m.contact_id, "remove")
                for m, record in zip(members, records)]

    def _tag(self, tag: str, member: Member, contact_id: str | None, operation: str) -> Outcome:
        if contact_id is None:
            if operation == "remove":
                return Outcome(member.person_id, "ok", None, None, None)
            return Outcome(member.person_id, "rejected", None, None, "not in Whautomate")
        response = self.api.request("POST", f"/contacts/{quote(contact_id, safe='')}/tags/{operation}",
                                    json={"tags": [tag]}, accept=(404,))
        if response.status_code == 404 and operation == "add":
            return Outcome(member.person_id, "rejected", contact_id, None,
                           f"not in Whautomate (contact {contact_id} not found)")
        return Outcome(member.person_id, "ok", contact_id, contact_id, None)


def push_client(settings: dict[str, Any], run: SyncRun) -> WhautomatePush:
    return WhautomatePush(api_client(settings, run), settings["push_concurrency"])
