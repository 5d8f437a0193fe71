"""Waabot record shapes, its session (login and access-token renewal) and its listings."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from itertools import islice
from dataclasses import dataclass
from typing import Any

import httpx
import ijson
import orjson
import pyarrow as pa

from crmsync.sources.common.config import ConfigError
from crmsync.sources.common.http import ApiClient, RequestFailed
from crmsync.sources.common.records import Column
from crmsync.sources.common.run import SyncRun

CONTACT_COLUMNS = (
    Column("id", pa.string(), ("_id",)),
    Column("name", pa.string()),
    Column("number", pa.string()),  # free text, kept as sent: "status" stays "status"
    Column("client_id", pa.string()),
    Column("group_id", pa.string()),
    Column("channel", pa.string()),
    Column("survey_id", pa.string(), ("transaction", "survey_id")),
    Column("survey_sort_id", pa.string(), ("transaction", "survey_sort_id")),
    Column("created_at", pa.string(), ("createdAt",), time_format="iso"),
    Column("updated_at", pa.string(), ("updatedAt",), time_format="iso"),
    Column("version", pa.int64(), ("__v",)),  # Mongoose's document version
)

GROUP_COLUMNS = (
    Column("id", pa.string(), ("_id",)),
    Column("title", pa.string()),
    Column("is_default", pa.bool_()),
    Column("client_id", pa.string()),
    Column("created_at", pa.string(), ("createdAt",), time_format="iso"),
    Column("updated_at", pa.string(), ("updatedAt",), time_format="iso"),
    Column("version", pa.int64(), ("__v",)),
)

PROVIDER = "waabot"


class TokenRenewal:
    """The `on_response` hook that keeps a client on the newest access token.

    Waabot serves a request whose access token expired (the refresh token is still good) and
    sends a fresh one in `x-access-token`; from then on that one must be sent. Responses may
    arrive on several threads at once, hence the lock."""

    def __init__(self, access_token: str) -> None:
        self.current = access_token
        self.renewals = 0
        self._client: ApiClient | None = None
        self._lock = threading.Lock()

    def attach(self, client: ApiClient) -> None:
        self._client = client

    def __call__(self, response: httpx.Response) -> None:
        fresh = response.headers.get("x-access-token")
        if not fresh or self._client is None:
            return
        with self._lock:
            if fresh == self.current:
                return
            self.current = fresh
            self.renewals += 1
            self._client.set_header("Authorization", f"Bearer {fresh}")


@dataclass(frozen=True)
class Instance:
    """The WhatsApp instance credentials, in the query string or in a JSON body on GET."""

    session_id: str
    access_token: str
    where: str  # "query" or "body"

    def get(self, api: ApiClient, path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """GET a listing and answer the envelope's `data` list (a body cut short is read again)."""
        query, body = self._credentials(params)
        answer = api.get_json(path, query, json=body)
        if not isinstance(answer, dict):
            raise RequestFailed(f"{PROVIDER}: GET {path} answered no envelope")
        return listed(answer, f"GET {path}")

    def chunks(self, api: ApiClient, path: str, params: dict[str, Any] | None,
               size: int) -> Iterator[list[dict[str, Any]]]:
        """GET a listing and hand out its `data` records `size` at a time, parsed as they are
        handed out: the contacts listing is the whole account in one body (~150 MB at a
        million records), and parsed whole it would take ten times that as Python objects.
        A body found cut short is read again and handed out from the start: the records
        already handed out come again, and the merge on their key keeps each once."""
        where = f"GET {path}"
        query, body = self._credentials(params)
        for attempt in range(api.retry.attempts):
            response = api.request("GET", path, params=query, json=body)
            try:
                if not _lists_data(response.content):
                    listed(_parse(response, where), where)  # raises, with the API's message
                records = ijson.items(response.content, "data.item", use_float=True)
                while chunk := list(islice(records, max(size, 1))):
                    yield chunk
                return
            except ijson.JSONError:
                api.backoff(attempt)
        raise RequestFailed(f"{PROVIDER}: {where} kept answering incomplete JSON", transient=True)

    def _credentials(self, params: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, str] | None]:
        """The query and the GET body, with the instance credentials where the account wants them."""
        credentials = {"session_id": self.session_id, "access_token": self.access_token}
        query = {**(params or {}), **(credentials if self.where == "query" else {})}
        return query, credentials if self.where == "body" else None


def instance(settings: dict[str, Any]) -> Instance:
    where = settings["instance_credentials_in"]
    if where not in ("query", "body"):
        raise ConfigError(f"{PROVIDER}: setting sources.{PROVIDER}.instance_credentials_in must be "
                          f"\"query\" or \"body\", not {where!r}")
    return Instance(settings["session_id"], settings["access_token"], where)


def open_session(settings: dict[str, Any], run: SyncRun) -> ApiClient:
    """Log in once and answer the client every other request goes through.

    The login has its own client so that a refusal names the login settings, while a refusal
    later (the session is good by then) names the instance credentials."""
    base_url, rate = settings["base_url"], settings["requests_per_second"]
    login = run.client(ApiClient(PROVIDER, base_url, auth_setting="email/password", per_second=rate))
    response = login.request("POST", "/sessions",
                             json={"email": settings["email"], "password": settings["password"]})
    data = _parse(response, "POST /sessions").get("data") or {}
    access, refresh = data.get("accessToken"), data.get("refreshToken")
    if not isinstance(access, str) or not isinstance(refresh, str):
        raise RequestFailed(f"{PROVIDER}: POST /sessions answered no accessToken/refreshToken")
    renewal = TokenRenewal(access)
    api = run.client(ApiClient(
        PROVIDER, base_url, auth_setting="session_id/access_token",
        headers={"Authorization": f"Bearer {access}", "x-refresh": refresh},
        per_second=rate, on_response=renewal))
    renewal.attach(api)
    return api


def _lists_data(content: bytes) -> bool:
    """Whether the envelope's `data` is a list and no `status: false` came before it, read
    from the few parse events in front of the list (the list itself is streamed)."""
    for prefix, event, value in ijson.parse(content):
        if prefix == "status" and value is False:
            return False
        if prefix == "data":
            return event == "start_array"
    return False


def listed(body: dict[str, Any], where: str) -> list[dict[str, Any]]:
    """The `data` list of an envelope; a `status: false` or a missing list is a failure."""
    data = body.get("data")
    if body.get("status") is False or not isinstance(data, list):
        raise RequestFailed(f"{PROVIDER}: {where} answered no list: {str(body.get('message'))[:200]}")
    return data


def _parse(response: httpx.Response, where: str) -> dict[str, Any]:
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        raise RequestFailed(f"{PROVIDER}: {where} answered a body that is not JSON") from None
    if not isinstance(body, dict):
        raise RequestFailed(f"{PROVIDER}: {where} answered no envelope")
    return body
