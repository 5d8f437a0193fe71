"""Reading Whautomate requests: query parameters, listing filters and JSON bodies.

Anything the API would refuse raises `Rejected`, which the route wrapper turns into the
response; handlers only deal with requests that make sense.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from crmsync.sandbox.provider import Handler
from crmsync.sandbox.providers.whautomate.records import STAGES, Record
from crmsync.sandbox.table import Table

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
SEGMENT_TYPES = ("client", "contact")  # the docs' enum lost its values; "client" is shown (assumed)

Predicate = Callable[[Record], bool]


class Rejected(Exception):
    def __init__(self, status: int, payload: dict[str, Any]) -> None:
        super().__init__(status, payload)
        self.status = status
        self.payload = payload


def bad_body() -> Rejected:
    return Rejected(400, {"message": "Invalid request body"})


def bad_params() -> Rejected:
    return Rejected(400, {"error": "Invalid parameters"})


def not_found() -> Rejected:
    return Rejected(404, {"message": "Not found"})


def guarded(handler: Handler) -> Handler:
    """The handler, answering a `Rejected` with its status and body."""

    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except Rejected as rejected:
            return JSONResponse(rejected.payload, status_code=rejected.status)

    return run


# -- listings ----------------------------------------------------------------------------
def paging(request: Request) -> tuple[int, int]:
    """(offset, limit) from `page` (from 1) and `limit` (1..100)."""
    try:
        limit = int(request.query_params.get("limit", DEFAULT_LIMIT))
        page = int(request.query_params.get("page", 1))
    except ValueError:
        raise bad_params() from None
    if not 1 <= limit <= MAX_LIMIT or page < 1:
        raise bad_params()
    return (page - 1) * limit, limit


def listing(table: Table, request: Request, tests: list[Predicate],
            candidates: np.ndarray | None = None) -> list[Record]:
    """One page, newest `createdAt` first, of the records passing every test. Filtered
    listings read records one by one, newest first, until the page is full; `candidates`
    (ascending ks, a superset of the matches) spares reading the others."""
    offset, limit = paging(request)
    if not tests:
        return table.page(offset, limit, newest_first=True)
    page: list[Record] = []
    for k in (table.alive() if candidates is None else candidates)[::-1]:
        record = table.get(int(k))
        if all(test(record) for test in tests):
            if offset:
                offset -= 1
                continue
            page.append(record)
            if len(page) == limit:
                break
    return page


def search_text(request: Request, fields: tuple[str, ...]) -> list[Predicate]:
    """`searchText`: a case-insensitive substring of any of the fields; phone numbers also
    match on their digits, whatever the punctuation (assumed)."""
    text = request.query_params.get("searchText", "").strip().lower()
    if not text:
        return []
    digits = re.sub(r"\D", "", text)

    def test(record: Record) -> bool:
        for field in fields:
            value = str(record.get(field) or "")
            if text in value.lower():
                return True
            if field == "phoneNumber" and digits and digits in re.sub(r"\D", "", value):
                return True
        return False

    return [test]


def contact_filters(request: Request) -> list[Predicate]:
    """`tags` (any of these, comma-separated, case-insensitive: assumed), `locationId`,
    `channel` and `searchText` over name, phone and email."""
    query = request.query_params
    tests = search_text(request, ("name", "phoneNumber", "email"))
    if wanted := wanted_tags(request):
        tests.append(lambda r: any(t.lower() in wanted for t in r["tags"]))
    if location := query.get("locationId"):
        tests.append(lambda r: r["location"]["id"] == location)
    if channel := query.get("channel"):
        tests.append(lambda r: r["channel"] == channel)
    return tests


def wanted_tags(request: Request) -> set[str]:
    return {t.strip().lower() for t in request.query_params.get("tags", "").split(",") if t.strip()}


def location_filter(request: Request) -> list[Predicate]:
    location = request.query_params.get("locationId")
    return [lambda r: r["location"]["id"] == location] if location else []


# -- bodies ------------------------------------------------------------------------------
_CONTACT_FIELDS: dict[str, type | tuple[type, ...]] = {
    "name": str, "phoneNumber": str, "email": (str, type(None)), "stage": str, "notes": str,
    "customFields": dict, "tags": list,
}


def contact_fields(body: Any, required: tuple[str, ...]) -> dict[str, Any]:
    """The contact fields a POST or PUT body sets; other keys are ignored (assumed)."""
    if not isinstance(body, dict):
        raise bad_body()
    fields = {name: body[name] for name in _CONTACT_FIELDS if name in body}
    for name, kind in _CONTACT_FIELDS.items():
        if name in fields and not isinstance(fields[name], kind):
            raise bad_body()
    if any(name not in fields for name in required):
        raise bad_body()
    if any(name in fields and not fields[name].strip() for name in ("name", "phoneNumber")):
        raise bad_body()
    if "stage" in fields and fields["stage"] not in STAGES:
        raise bad_body()
    if "tags" in fields:
        fields["tags"] = names(fields["tags"])
    return fields


def names(value: Any) -> list[str]:
    """A list of non-empty strings, without repeats."""
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise bad_body()
    return list(dict.fromkeys(value))


def tag_list(body: Any) -> list[str]:
    """`{"tags": [...]}` with at least one tag."""
    tags = names(body.get("tags") if isinstance(body, dict) else None)
    if not tags:
        raise bad_body()
    return tags


def text_field(body: Any, name: str) -> str:
    value = body.get(name) if isinstance(body, dict) else None
    if not isinstance(value, str) or not value.strip():
        raise bad_body()
    return value.strip()


def _is_names(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


_CRITERIA: dict[str, Callable[[Any], bool]] = {
    "tags": _is_names,
    "exclusionTags": _is_names,
    "gender": lambda v: isinstance(v, str),
    "numberOfDaysLastActivity": _is_count,
    "ageFrom": _is_count,
    "ageTo": _is_count,
    "contactStage": lambda v: v in STAGES,
    "primaryLocations": lambda v: isinstance(v, list) and all(
        isinstance(p, dict) and isinstance(p.get("id"), str) for p in v),
}


def segment_fields(body: Any, default_location: str) -> dict[str, Any]:
    """name and type required; criteria keys as in the docs, unknown ones refused (assumed);
    a body `id` is ignored: the server names its segments (assumed)."""
    name = text_field(body, "name")
    if body.get("type") not in SEGMENT_TYPES:
        raise bad_body()
    criteria = body.get("criteria", {})
    if not isinstance(criteria, dict) or not all(
            key in _CRITERIA and _CRITERIA[key](value) for key, value in criteria.items()):
        raise bad_body()
    location = body.get("location", {"id": default_location})
    if not isinstance(location, dict) or not isinstance(location.get("id"), str):
        raise bad_body()
    return {"name": name, "type": body["type"], "criteria": criteria,
            "location": {"id": location["id"]}}
