"""Chatman's errors, list envelope, opaque cursors and query parameters."""

from __future__ import annotations

import base64
import binascii
import bisect
import json
from collections.abc import Sequence
from typing import Any, TypeVar

from starlette.requests import Request

from crmsync.sandbox.clock import parse_iso_ms
from crmsync.sandbox.table import Key

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000

T = TypeVar("T")


class ApiError(Exception):
    """Raised by handlers; the dispatcher turns it into `{"detail": ...}` with `status`."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def limit_param(request: Request) -> int:
    raw = request.query_params.get("limit")
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiError(400, f"limit must be an integer between 1 and {MAX_LIMIT}.")
    return limit


def time_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return parse_iso_ms(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be an ISO-8601 timestamp.") from None


def choice_param(request: Request, name: str, choices: Sequence[str], default: str | None) -> str | None:
    raw = request.query_params.get(name) or default
    if raw is not None and raw not in choices:
        raise ApiError(400, f"{name} must be one of: {', '.join(choices)}.")
    return raw


def encode_cursor(kind: str, key: Key) -> str:
    raw = json.dumps({"k": kind, "t": key[0], "i": key[1]}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def cursor_param(request: Request, kind: str) -> Key | None:
    """The key to continue after; a cursor from another listing (or mode) is invalid."""
    raw = request.query_params.get("after")
    if raw is None or raw == "":
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        if data["k"] == kind and isinstance(data["t"], int) and isinstance(data["i"], str):
            return data["t"], data["i"]
    except (ValueError, TypeError, KeyError, binascii.Error):
        pass
    raise ApiError(400, "Invalid cursor.")


def envelope(kind: str, count: int, results: list[Any], next_key: Key | None) -> dict[str, Any]:
    return {
        "count": count,
        "next": None if next_key is None else encode_cursor(kind, next_key),
        "results": results,
    }


def keyset(items: Sequence[tuple[Key, T]], after: Key | None, limit: int) -> tuple[list[T], Key | None]:
    """One page of a small in-memory listing already sorted by key."""
    start = 0 if after is None else bisect.bisect_right(items, after, key=lambda item: item[0])
    chunk = items[start:start + limit]
    more = start + limit < len(items)
    return [value for _key, value in chunk], (chunk[-1][0] if more and chunk else None)
