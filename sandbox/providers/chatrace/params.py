"""Request parsing shared by the Chatrace handlers. Bad input raises `ApiError`, which the
provider turns into its `{"error": {"code", "message"}}` body."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

MAX_LIMIT = 100  # opportunities, comments and pipelines per page (assumed cap)


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def path_int(request: Request, name: str) -> int:
    """An integer path parameter; anything else is a 400 (the swagger's "invalid" answer)."""
    return as_int(request.path_params[name], f"Invalid {name}")


def as_int(value: Any, message: str) -> int:
    if isinstance(value, bool):
        raise ApiError(400, message)
    try:
        return int(str(value).strip())
    except ValueError:
        raise ApiError(400, message) from None


def paging(request: Request) -> tuple[int, int]:
    """`offset` (default 0) and `limit` (default 100, capped at MAX_LIMIT)."""
    offset = as_int(request.query_params.get("offset", "0"), "Invalid parameters: offset")
    limit = as_int(request.query_params.get("limit", str(MAX_LIMIT)), "Invalid parameters: limit")
    if offset < 0 or limit < 1:
        raise ApiError(400, "Invalid parameters: offset must be >= 0 and limit >= 1")
    return offset, min(limit, MAX_LIMIT)


async def json_object(request: Request) -> dict[str, Any]:
    """The JSON object body; a missing or malformed body is a 400."""
    raw = await request.body()
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ApiError(400, "Invalid parameters: a JSON object body is required")
    return body


async def form_field(request: Request, name: str) -> str:
    """One `application/x-www-form-urlencoded` field; missing is a 400. Multipart bodies are
    not emulated (assumed: clients send url-encoded forms)."""
    fields = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
    if name not in fields:
        raise ApiError(400, f"Invalid parameters: {name} is required")
    return fields[name]
