"""Waabot push-back: one contact group per segment, one contact record per member.

The target is the account's group titled exactly like the push line (`GET /contact_groups`),
created with `POST /contact_groups {title}` when missing (several groups with that title: the
first listed). add: `POST /contact {session_id, access_token, name, number, group_id}` with
`number` = the person's E.164 digits (always the same text for a person, so Waabot's
one-number-per-group rule catches a second add) -> the created record's `_id` is both the
Outcome's contact_id and its record_id, the thing kept to undo the add. Waabot answers 400
"Contact already exists in this group" when the number is already there (a retried add whose
answer was lost, a killed push run again): that record is looked up in `GET /contact?type=all`
(read once per run and kept; read again when it lacks the record) and answered "ok", so a run
again never makes a second record. remove: `DELETE /contact/{record_id}`; 404 = already gone =
ok. A member without a phone cannot have a record: rejected.

Session, token renewal and instance credentials are the Waabot source's (`open_session`,
`instance`): one login per run, the renewed access token used from then on.
"""

from __future__ import annotations

import re
import threading
from typing import Any
from urllib.parse import quote

import httpx
from crmsync.kernel.errors import UserError
from crmsync.kernel.push import Member, Outcome, PushTarget
from crmsync.sources.common.http import ApiClient, RequestFailed
from crmsync.sources.common.run import SyncRun
from crmsync.sources.waabot.helpers import Instance, instance, open_session

ALREADY_IN_GROUP = "already exists in this group"
_NON_DIGITS = re.compile(r"\D")


class WaabotPush:
    provider = "waabot"
    batch_size = 1  # one record per call

    def __init__(self, api: ApiClient, credentials: Instance, concurrency: int) -> None:
        self.api = api
        self.credentials = credentials
        self.concurrency = max(concurrency, 1)
        self._records: dict[tuple[str, str], str] | None = None  # (group_id, number) -> _id
        self._lock = threading.Lock()

    # -- target --------------------------------------------------------------------------
    def resolve_target(self, target: PushTarget, create: bool) -> str:
        found = self._find_group(target.name)
        if found is not None:
            return found
        if not create:
            raise UserError(f"waabot: contact group {target.name!r} does not exist")
        return self._create_group(target.name)

    def _create_group(self, title: str) -> str:
        """Waabot allows two groups of one title: a create whose answer was lost is followed by
        a look-up, never by a blind second POST."""
        body = {"title": title, **self._instance()}
        for attempt in range(self.api.retry.attempts):
            try:
                return str(_data(self.api, self.api.request("POST", "/contact_groups", json=body, once=True))["_id"])
            except RequestFailed as error:
                if error.status is not None:  # answered, and not transiently: it was not made
                    raise
            found = self._find_group(title)
            if found is not None:
                return found
            self.api.backoff(attempt)
        raise RequestFailed(f"waabot: could not create contact group {title!r}")

    def _find_group(self, title: str) -> str | None:
        groups = self.credentials.get(self.api, "/contact_groups")
        return next((str(g["_id"]) for g in groups if g.get("title") == title), None)

    # -- members -------------------------------------------------------------------------
    def add(self, target_id: str, members: list[Member]) -> list[Outcome]:
        return [self._add_one(target_id, m) for m in members]

    def remove(self, target_id: str, members: list[Member], records: list[str | None]) -> list[Outcome]:
        return [self._remove_one(target_id, m, record) for m, record in zip(members, records)]

    def _add_one(self, group_id: str, member: Member) -> Outcome:
        number = _number(member)
        if number is None:
            return Outcome(member.person_id, "rejected", None, None, "no phone number for a Waabot record")
        body = {"name": member.name or number, "number": number, "group_id": group_id, **self._instance()}
        response, lost = self.api.create("/contact", json=body, accept=(400,))
        if response.status_code == 400:
            if ALREADY_IN_GROUP not in _message(self.api, response):
                return Outcome(member.person_id, "rejected", None, None,
                               f"Waabot refused the record: {_message(self.api, response)}")
            record_id = self._existing(group_id, number)
            if record_id is None:
                return Outcome(member.person_id, "rejected", None, None,
                               "Waabot says the number is in the group but its record cannot be found")
            # Already in the group: crmsync's record when an earlier attempt of this create
            # lost its answer (that attempt made it), else one made before crmsync's push.
            return Outcome(member.person_id, "ok", record_id, record_id, None, created=lost)
        record_id = str(_data(self.api, response)["_id"])
        return Outcome(member.person_id, "ok", record_id, record_id, None, created=True)

    def _remove_one(self, group_id: str, member: Member, record: str | None) -> Outcome:
        if record is None:
            # No record kept (should not happen): the one with this person's number, if any.
            number = _number(member)
            record = self._existing(group_id, number) if number else None
        if record is not None:
            # Instance credentials in the query (what Waabot reads on DELETE) and the body (the
            # contract's "JSON body otherwise"): either reading of the API is served.
            self.api.request("DELETE", f"/contact/{quote(record, safe='')}", params=self._instance(),
                             json=self._instance(), accept=(404,))  # 404: already gone
        return Outcome(member.person_id, "ok", record, record, None)

    def _existing(self, group_id: str, number: str) -> str | None:
        """The record with exactly this number in the group, from the listing of this run;
        read again when the listing kept does not have it (made since it was read)."""
        with self._lock:
            if self._records is not None and (group_id, number) in self._records:
                return self._records[(group_id, number)]
            # Streamed: the listing is the whole account in one body (see Instance.chunks).
            self._records = {(str(r.get("group_id")), str(r.get("number"))): str(r["_id"])
                             for chunk in self.credentials.chunks(self.api, "/contact", {"type": "all"}, 5000)
                             for r in chunk}
            return self._records.get((group_id, number))

    def _instance(self) -> dict[str, str]:
        """The instance credentials, sent in the JSON body of writes."""
        return {"session_id": self.credentials.session_id, "access_token": self.credentials.access_token}


def _number(member: Member) -> str | None:
    """The person's phone as the records crmsync makes carry it: E.164 digits, no '+'."""
    digits = _NON_DIGITS.sub("", member.phone_e164 or "")
    return digits or None


def _envelope(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _message(api: ApiClient, response: httpx.Response) -> str:
    """The envelope's message, or the body's start; scrubbed of every credential (some
    servers echo the request)."""
    return api.scrub(str(_envelope(response).get("message") or "")) or api.excerpt(response)


def _data(api: ApiClient, response: httpx.Response) -> dict[str, Any]:
    """The `data` record of a write's envelope."""
    data = _envelope(response).get("data")
    if not isinstance(data, dict) or "_id" not in data:
        raise RequestFailed(f"waabot: {response.request.method} {response.request.url.path} answered "
                            f"no record: {_message(api, response)}")
    return data


def push_client(settings: dict[str, Any], run: SyncRun) -> WaabotPush:
    credentials = instance(settings)  # a bad setting fails before the login
    return WaabotPush(open_session(settings, run), credentials, settings["push_concurrency"])
