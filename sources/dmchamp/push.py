"""DM Champ push-back: members of a configured list, contacts created when DM Champ lacks them.

The target is a list id from the push line (`push: dmchamp list <listId>`): DM Champ cannot
list its lists, so `resolve_target` makes no call and answers the id as given. Checking it
would take a write (only `POST`/`DELETE /contacts/lists` tell an unknown list), and a run with
no change must write nothing; the first real write finds out instead: 404 "List not found"
raises a UserError naming the list id, which stops that target's push before anything is
recorded.

add: `POST /contacts/lists {contactId, listId}`. A member DM Champ does not know
(contact_id None) is created first with `POST /contacts {phoneNumber (E.164), firstName,
lastName, email, listIds: [listId]}`, which also puts it in the list; a phone DM Champ already
has answers 400 "Contact already exists" with its contactId (also what a retried create
whose answer was lost gets), and that contact is then added to the list. The contact id goes
in the Outcome. A person without a phone cannot be created (DM Champ requires one): rejected.
remove: `DELETE /contacts/lists`; a contact DM Champ no longer has is out of every list: ok.
Adding twice or removing one not in the list change nothing (idempotent).
"""

from __future__ import annotations

from typing import Any

import httpx
from crmsync.kernel.errors import UserError
from crmsync.kernel.push import Member, Outcome, PushTarget
from crmsync.sources.common.http import ApiClient
from crmsync.sources.common.run import SyncRun
from crmsync.sources.dmchamp import api_client

LIST_PATH = "/contacts/lists"


class DmChampPush:
    provider = "dmchamp"
    batch_size = 1  # the API takes one contact per call

    def __init__(self, api: ApiClient, concurrency: int) -> None:
        self.api = api
        self.concurrency = max(concurrency, 1)

    def resolve_target(self, target: PushTarget, create: bool) -> str:
        """The list id as configured: DM Champ cannot be asked whether it exists (see above)."""
        return target.name

    def add(self, target_id: str, members: list[Member]) -> list[Outcome]:
        return [self._add_one(target_id, m) for m in members]

    def remove(self, target_id: str, members: list[Member], records: list[str | None]) -> list[Outcome]:
        return [self._remove_one(target_id, m, record) for m, record in zip(members, records)]

    def _add_one(self, list_id: str, member: Member) -> Outcome:
        contact_id, made = member.contact_id, False
        if contact_id is None:
            found = self._create(list_id, member)
            if isinstance(found, Outcome):
                return found
            contact_id, in_list, made = found
            if in_list:
                return Outcome(member.person_id, "ok", contact_id, contact_id, None, created=made)
        response = self._list_call("POST", list_id, contact_id)
        if response.status_code == 404:  # the list is known by now: the contact is gone
            return Outcome(member.person_id, "rejected", contact_id, None,
                           f"DM Champ no longer has contact {contact_id}")
        return Outcome(member.person_id, "ok", contact_id, contact_id, None, created=made)

    def _remove_one(self, list_id: str, member: Member, record: str | None) -> Outcome:
        # The membership is on the contact it was put on (the record), else the live one.
        contact_id = record or member.contact_id
        if contact_id is not None:
            self._list_call("DELETE", list_id, contact_id)  # 404: contact gone, out of every list
        return Outcome(member.person_id, "ok", contact_id, contact_id, None)

    def _list_call(self, method: str, list_id: str, contact_id: str) -> httpx.Response:
        """Add to or remove from the list; answers 2xx or 404 "Contact not found"."""
        response = self.api.request(method, LIST_PATH, json={"contactId": contact_id, "listId": list_id},
                                    accept=(404,))
        _check_list(response, list_id)
        return response

    def _create(self, list_id: str, member: Member) -> tuple[str, bool, bool] | Outcome:
        """(contact id, already in the list, made by crmsync) of the member's new or existing
        contact, or the rejected Outcome when DM Champ cannot hold this person."""
        if not member.phone_e164:
            return Outcome(member.person_id, "rejected", None, None,
                           "not in DM Champ and no phone number to create the contact with")
        response, lost = self.api.create("/contacts", json=_contact_body(member, list_id), accept=(400, 404))
        _check_list(response, list_id)
        body = _json(response)
        if response.status_code < 300 and body.get("contactId"):
            return str(body["contactId"]), True, True  # created with listIds: in the list already
        if response.status_code == 400 and body.get("contactId"):
            # "Contact already exists": add it to the list. It is crmsync's when an earlier
            # attempt of this create lost its answer (that attempt made it).
            return str(body["contactId"]), False, lost
        reason = self.api.scrub(str(body.get("error") or body.get("message") or "")) or self.api.excerpt(response)
        return Outcome(member.person_id, "rejected", None, None, f"DM Champ refused the contact: {reason}")


def _contact_body(member: Member, list_id: str) -> dict[str, Any]:
    first, _, last = (member.name or "").strip().partition(" ")
    body: dict[str, Any] = {"phoneNumber": member.phone_e164, "listIds": [list_id]}
    if first:
        body["firstName"] = first
    if last.strip():
        body["lastName"] = last.strip()
    if member.email:
        body["email"] = member.email
    return body


def _check_list(response: httpx.Response, list_id: str) -> None:
    """DM Champ's 404 "List not found": the configured list id is wrong, a user's fix."""
    if response.status_code == 404 and "list not found" in response.text.lower():
        raise UserError(f"dmchamp: list {list_id!r} does not exist in DM Champ; check the segment's "
                        f"`push: dmchamp list` line (DM Champ list ids cannot be listed through the API)")


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def push_client(settings: dict[str, Any], run: SyncRun) -> DmChampPush:
    return DmChampPush(api_client(settings, run), settings["push_concurrency"])
