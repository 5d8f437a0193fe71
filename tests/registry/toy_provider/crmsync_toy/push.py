"""The toy provider's push client: a tag on each member's contact, one call each."""

from __future__ import annotations

from urllib.parse import quote

from crmsync.kernel.push import Member, Outcome, PushTarget
from crmsync.sources.common.http import ApiClient


class ToyPush:
    provider = "toy"
    batch_size = 1
    concurrency = 1

    def __init__(self, api: ApiClient) -> None:
        self.api = api

    def resolve_target(self, target: PushTarget, create: bool) -> str:
        return target.name  # a tag exists once a contact carries it

    def add(self, target_id: str, members: list[Member]) -> list[Outcome]:
        return [self._send("PUT", target_id, m, m.contact_id) for m in members]

    def remove(self, target_id: str, members: list[Member], records: list[str | None]) -> list[Outcome]:
        return [self._send("DELETE", target_id, m, record or m.contact_id) for m, record in zip(members, records)]

    def _send(self, method: str, tag: str, member: Member, contact_id: str | None) -> Outcome:
        if contact_id is None:  # nobody to tag: nothing to add, nothing to take off
            ok = method == "DELETE"
            return Outcome(member.person_id, "ok" if ok else "rejected", None, None, None if ok else "not in toy")
        self.api.request(method, f"/contacts/{quote(contact_id, safe='')}/tags/{quote(tag, safe='')}")
        return Outcome(member.person_id, "ok", contact_id, contact_id, None)
