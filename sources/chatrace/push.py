"""Chatrace push-back: an account tag named after the segment on each member's contact.

The target is the tag id found with `GET /accounts/tags/name/{name}` (names match ignoring
case); a 404 there creates it (`POST /accounts/tags`, form `name`) when asked to create. A
create refused because the name exists (a retried create whose answer was lost, or a tag made
meanwhile) looks the tag up again. add/remove: `POST`/`DELETE /contacts/{contact_id}/tags/
{tag_id}`; adding a tag the contact has, or removing one it lacks, changes nothing
(idempotent). A member with no Chatrace contact, or whose contact is gone (404), is rejected
on add ("not in Chatrace"); on remove such a contact carries no tag: ok. A tag deleted while
the push runs stops the add (its id is no longer valid) but not the remove (it is off every
contact with it).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
from crmsync.kernel.errors import UserError
from crmsync.kernel.push import Member, Outcome, PushTarget
from crmsync.sources.chatrace import api_client
from crmsync.sources.common.http import ApiClient, RequestFailed
from crmsync.sources.common.run import SyncRun


class ChatracePush:
    provider = "chatrace"
    batch_size = 1  # one contact per call

    def __init__(self, api: ApiClient, concurrency: int) -> None:
        self.api = api
        self.concurrency = max(concurrency, 1)

    def resolve_target(self, target: PushTarget, create: bool) -> str:
        found = self._find_tag(target.name)
        if found is not None:
            return found
        if not create:
            raise UserError(f"chatrace: tag {target.name!r} does not exist")
        response = self.api.request("POST", "/accounts/tags", data={"name": target.name}, accept=(400,))
        if response.status_code == 400:
            found = self._find_tag(target.name)
            if found is None:
                raise RequestFailed(f"chatrace: POST /accounts/tags refused {target.name!r}: "
                                    f"{self.api.excerpt(response)}", 400)
            return found
        return str(response.json()["id"])

    def _find_tag(self, name: str) -> str | None:
        tag = self.api.get_json(f"/accounts/tags/name/{quote(name, safe='')}", accept=(404,))
        return None if tag is None else str(tag["id"])

    def add(self, target_id: str, members: list[Member]) -> list[Outcome]:
        return [self._tag(target_id, m, m.contact_id, "POST") for m in members]

    def remove(self, target_id: str, members: list[Member], records: list[str | None]) -> list[Outcome]:
        # The tag is on the contact it was put on (the record), else the live one.
        return [self._tag(target_id, m, record or m.contact_id, "DELETE")
                for m, record in zip(members, records)]

    def _tag(self, tag_id: str, member: Member, contact_id: str | None, method: str) -> Outcome:
        if contact_id is None:
            if method == "DELETE":
                return Outcome(member.person_id, "ok", None, None, None)
            return Outcome(member.person_id, "rejected", None, None, "not in Chatrace")
        response = self.api.request(method, f"/contacts/{quote(contact_id, safe='')}/tags/{tag_id}",
                                    accept=(404,))
        if response.status_code == 404 and method == "POST":
            if _error_message(response).lower().startswith("tag"):
                raise RequestFailed(f"chatrace: tag {tag_id} disappeared while pushing", 404)
            return Outcome(member.person_id, "rejected", contact_id, None,
                           f"not in Chatrace (contact {contact_id} not found)")
        return Outcome(member.person_id, "ok", contact_id, contact_id, None)


def _error_message(response: httpx.Response) -> str:
    """The message of Chatrace's `{"error": {"code", "message"}}`."""
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        return ""
    return str(error.get("message", "")) if isinstance(error, dict) else ""


def push_client(settings: dict[str, Any], run: SyncRun) -> ChatracePush:
    return ChatracePush(api_client(settings, run), settings["push_concurrency"])
