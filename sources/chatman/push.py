"""Chatman push-back: a segment per crmsync segment, members by subscribe/unsubscribe.

The target is the Chatman segment named like the push line (`GET /segments/?search_key=`,
exact name), created empty (`POST /segments/`) when missing. Members go in and out by
`user_id` (Member.contact_id), up to `push_batch_size` (at most 1000) per call. Chatman
refuses a whole call when one user_id is unknown or deleted (400 "Unknown user_id(s): ..."):
the named ids are taken out and the rest sent again (halving the batch when the answer names
none), so one stale contact never blocks the others. Subscribing a member already in and
unsubscribing one already out change nothing (idempotent); an unknown user on unsubscribe is
already out of every segment, so that is "ok" too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from crmsync.kernel.errors import UserError
from crmsync.kernel.push import Member, Outcome, PushTarget
from crmsync.sources.chatman import api_client
from crmsync.sources.common.http import ApiClient, RequestFailed
from crmsync.sources.common.paging import cursor_pages
from crmsync.sources.common.run import SyncRun

MAX_BATCH = 1000  # the API's limit on user_ids per subscribe/unsubscribe call
UNKNOWN_USER = "Chatman does not know this user_id (deleted?)"
_UNKNOWN = re.compile(r"Unknown user_id\(s\):\s*(.*)")

Send = Callable[[list[str]], str | None]  # None, or why the batch was refused


class ChatmanPush:
    provider = "chatman"

    def __init__(self, api: ApiClient, batch_size: int, concurrency: int) -> None:
        self.api = api
        self.batch_size = min(max(batch_size, 1), MAX_BATCH)
        self.concurrency = max(concurrency, 1)

    def resolve_target(self, target: PushTarget, create: bool) -> str:
        found = self._find_segment(target.name)
        if found is not None:
            return found
        if not create:
            raise UserError(f"chatman: segment {target.name!r} does not exist")
        response = self.api.request("POST", "/segments/", json={"segment_name": target.name, "users": []},
                                    accept=(400,))
        if response.status_code == 400:
            # A create whose answer was lost, or a segment made meanwhile: it is there now.
            found = self._find_segment(target.name)
            if found is None:
                raise RequestFailed(f"chatman: POST /segments/ refused {target.name!r}: {self.api.excerpt(response)}", 400)
            return found
        return str(response.json()["segment_id"])

    def _find_segment(self, name: str) -> str | None:
        """search_key is a substring match: keep the segment whose name is exactly `name`."""
        for page in cursor_pages(self.api, "/segments/", {"search_key": name, "limit": MAX_BATCH}):
            for segment in page:
                if segment.get("segment_name") == name:
                    return str(segment["segment_id"])
        return None

    def add(self, target_id: str, members: list[Member]) -> list[Outcome]:
        return self._change(target_id, members, [None] * len(members), "subscribe")

    def remove(self, target_id: str, members: list[Member], records: list[str | None]) -> list[Outcome]:
        return self._change(target_id, members, records, "unsubscribe")

    def _change(self, target_id: str, members: list[Member], records: list[str | None],
                operation: str) -> list[Outcome]:
        # The membership is on the contact it was put on (the record), else the live one.
        users = {m.person_id: record or m.contact_id for m, record in zip(members, records)}
        ids = list(dict.fromkeys(u for u in users.values() if u))
        refused: dict[str, str] = {}
        for start in range(0, len(ids), self.batch_size):
            refused |= self._send_all(ids[start:start + self.batch_size],
                                      lambda batch: self._post(target_id, operation, batch))
        return [_outcome(m, users[m.person_id], refused, operation) for m in members]

    def _post(self, target_id: str, operation: str, user_ids: list[str]) -> str | None:
        """Send one call; answer None, or the `detail` of Chatman's 400 refusing the batch."""
        response = self.api.request("POST", f"/segments/{target_id}/{operation}/",
                                    json={"user_ids": user_ids}, accept=(400,))
        if response.status_code != 400:
            return None
        try:
            return self.api.scrub(str(response.json().get("detail", "")))
        except ValueError:
            return self.api.excerpt(response)

    def _send_all(self, user_ids: list[str], send: Send) -> dict[str, str]:
        """Send `user_ids`; answer those Chatman refuses, with why (the others went through)."""
        if not user_ids:
            return {}
        refusal = send(user_ids)
        if refusal is None:
            return {}
        named = _unknown_ids(refusal) & set(user_ids)
        if named:
            rest = [u for u in user_ids if u not in named]
            return dict.fromkeys(named, UNKNOWN_USER) | self._send_all(rest, send)
        if len(user_ids) == 1:
            return {user_ids[0]: f"Chatman refused it: {refusal}"}
        # A refusal naming nobody: halve until it falls on the ids it is about.
        half = len(user_ids) // 2
        return self._send_all(user_ids[:half], send) | self._send_all(user_ids[half:], send)


def _outcome(member: Member, user_id: str | None, refused: dict[str, str], operation: str) -> Outcome:
    if user_id is None:
        if operation == "unsubscribe":
            return Outcome(member.person_id, "ok", None, None, None)  # never in Chatman: not in it
        return Outcome(member.person_id, "rejected", None, None, "not in Chatman")
    if user_id in refused and not (operation == "unsubscribe" and refused[user_id] == UNKNOWN_USER):
        return Outcome(member.person_id, "rejected", user_id, None, refused[user_id])
    # An unknown user_id on unsubscribe is a deleted contact, and those leave every segment.
    return Outcome(member.person_id, "ok", user_id, user_id, None)


def _unknown_ids(message: str) -> set[str]:
    """The ids named in Chatman's `Unknown user_id(s): a, b`."""
    match = _UNKNOWN.search(message)
    if not match:
        return set()
    return {part.strip() for part in match.group(1).split(",") if part.strip()}


def push_client(settings: dict[str, Any], run: SyncRun) -> ChatmanPush:
    return ChatmanPush(api_client(settings, run), settings["push_batch_size"], settings["push_concurrency"])
