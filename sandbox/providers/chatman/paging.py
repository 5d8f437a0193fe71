"""Chatman's errors, list envelope, opaque cursors and query parameters."""

from __future__ import annotations

import base64
import binascii
import bisect
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import numpy as np
from starlette.requests import Request

from sandbox.clock import Timeline, parse_iso_ms
from sandbox.table import Key, Record, Table

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000

T = TypeVar("T")


class ApiError(Exception):
    """Raised by handlers; the dispatcher turns it into `{"detail": ...}` with `status`."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class BatchTable(Table):
    """A Table that generates a page's records in one batch (vectorised timestamps) and
    can say how many records a scan window holds (the envelope's `count`)."""

    def __init__(self, n_base: int, make_many: Callable[[list[int]], list[Record]],
                 id_of: Callable[[int], Any], timeline: Timeline) -> None:
        super().__init__(n_base, lambda k: make_many([k])[0], id_of, timeline)
        self.make_many = make_many

    def records(self, ks: Iterable[int]) -> list[Record]:
        ks = [int(k) for k in ks]
        fresh = [k for k in ks if k < self.n_base and k not in self._changed and not self._deleted_base[k]]
        made = dict(zip(fresh, self.make_many(fresh)))
        out = []
        for k in ks:
            record = made[k] if k in made else self.get(k)
            if record is not None:
                out.append(record)
        return out

    def count(self, order: str, start_ms: int | None = None, end_ms: int | None = None) -> int:
        if start_ms is None and end_ms is None:
            return len(self)
        base, tail = self._ordered(order)
        stamp = self.created_ms if order == "created" else self.updated_ms
        lo = 0 if start_ms is None else bisect.bisect_left(base, start_ms, key=lambda k: stamp(int(k)))
        hi = len(base) if end_ms is None else bisect.bisect_left(base, end_ms, key=lambda k: stamp(int(k)))
        in_tail = sum(1 for ms, _id, _k in tail
                      if (start_ms is None or ms >= start_ms) and (end_ms is None or ms < end_ms))
        return max(hi - lo, 0) + in_tail


def iso_many(ms: Sequence[int]) -> list[str]:
    """`clock.iso_ms` over many timestamps at once (a tenth of the cost per stamp)."""
    stamps = np.datetime_as_string(np.array(ms, dtype="datetime64[ms]"), unit="ms").tolist()
    return [stamp + "Z" for stamp in stamps]


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
