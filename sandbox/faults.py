"""Faults switchable at run time, plus request stats.

One ASGI middleware in front of every provider. Each fault is a share of requests, drawn
from one seeded random generator (same seed and request order, same faults):

- before the handler (no side effect): `latency_ms` on every request, `slow_ms` on a
  `slow_rate` share (set it past the client's timeout), a token-bucket `rate_limit` per
  provider answering that provider's 429 with `Retry-After`, `error_rate` answering 5xx;
- after the handler (its write has happened): `commit_error_rate` answers a write (any
  method but GET) 5xx anyway, `drop_rate` sends part of the body and closes the connection,
  `truncate_rate` answers a GET's 200 with its JSON cut short (a whole, shorter body: the
  length says it is complete);
- schema drift on every record of a GET listing (a dict in a JSON list): `drift_add` names a
  new field (text), `drift_drop` a field removed, `drift_retype` a field whose type changes
  (a number or boolean becomes its text; text becomes `{"value": text}`).

A handler delayed past the client's timeout still runs (as on a real server), after the
client has given up on it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import random
import time
from collections import Counter
from dataclasses import dataclass, field, fields
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crmsync.sandbox.provider import Provider

_RATES = ("error_rate", "commit_error_rate", "drop_rate", "truncate_rate", "slow_rate")
_DRIFTS = ("drift_add", "drift_drop", "drift_retype")
_UNFINISHED = "ASGI callable returned without completing response."


@dataclass
class Faults:
    latency_ms: float = 0.0
    rate_limit: float | None = None  # requests per second, per provider
    error_rate: float = 0.0
    commit_error_rate: float = 0.0
    drop_rate: float = 0.0
    truncate_rate: float = 0.0
    slow_rate: float = 0.0
    slow_ms: float = 0.0
    drift_add: str | None = None
    drift_drop: str | None = None
    drift_retype: str | None = None
    seed: int = 0

    @classmethod
    def settings(cls) -> tuple[str, ...]:
        """The names settable at run time (all but the seed)."""
        return tuple(f.name for f in fields(cls) if f.name != "seed")

    def update(self, changes: dict[str, Any]) -> None:
        """Apply `changes`; a value of the wrong kind raises ValueError and changes nothing."""
        for name, value in changes.items():
            _check(name, value)
        for name, value in changes.items():
            setattr(self, name, value)

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.settings()}


def _check(name: str, value: Any) -> None:
    if name in _DRIFTS:
        if value is not None and not (isinstance(value, str) and value):
            raise ValueError(f"{name} is a field name or null")
    elif name == "rate_limit" and value is None:
        return
    elif isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"{name} is a number, at least 0")
    elif name in _RATES and value > 1:
        raise ValueError(f"{name} is a share between 0 and 1")


@dataclass
class _Bucket:
    tokens: float
    stamp: float = field(default_factory=time.monotonic)

    def take(self, rate: float) -> float:
        """Take a token; answer 0 if there was one, else the seconds until there is."""
        now = time.monotonic()
        burst = max(rate, 1.0)
        self.tokens = min(burst, self.tokens + (now - self.stamp) * rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / rate


class Stats:
    """Requests answered, per provider, by "METHOD /path/template" and status, and the
    faults injected per provider and kind (listed once there is one)."""

    def __init__(self) -> None:
        self.requests: dict[str, Counter] = {}
        self.statuses: dict[str, Counter] = {}
        self.faults: dict[str, Counter] = {}

    def record(self, provider: str, method: str, template: str, status: int) -> None:
        self.requests.setdefault(provider, Counter())[f"{method} {template}"] += 1
        self.statuses.setdefault(provider, Counter())[str(status)] += 1

    def fault(self, provider: str, kind: str) -> None:
        self.faults.setdefault(provider, Counter())[kind] += 1

    def as_dict(self) -> dict:
        answer = {
            "requests": {p: dict(c) for p, c in self.requests.items()},
            "statuses": {p: dict(c) for p, c in self.statuses.items()},
        }
        if self.faults:
            answer["faults"] = {p: dict(c) for p, c in self.faults.items()}
        return answer

    def reset(self) -> None:
        self.requests.clear()
        self.statuses.clear()
        self.faults.clear()


class _QuietDrops(logging.Filter):
    """Uvicorn logs an error for every response left unfinished: here that is the point."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != _UNFINISHED


class FaultMiddleware:
    def __init__(self, app: ASGIApp, providers: list[Provider], faults: Faults, stats: Stats):
        self.app = app
        self.providers = providers
        self.faults = faults
        self.stats = stats
        self.buckets: dict[str, _Bucket] = {}
        self.random = random.Random(faults.seed)
        server_log = logging.getLogger("uvicorn.error")
        if not any(isinstance(f, _QuietDrops) for f in server_log.filters):
            server_log.addFilter(_QuietDrops())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        provider = self._provider(scope)
        if provider is None:
            await self.app(scope, receive, send)
            return
        faults = self.faults
        delay = faults.latency_ms
        if self._draw("slow_rate", provider):
            delay += faults.slow_ms
        if delay:
            await asyncio.sleep(delay / 1000)
        status_box = {"status": 0}

        async def recording_send(message: dict) -> None:
            if message["type"] == "http.response.start":
                status_box["status"] = message["status"]
            await send(message)

        injected = self._before(provider)
        if injected is not None:
            await injected(scope, receive, recording_send)
            template = scope["path"][len(provider.prefix):]
        else:
            after = self._after(scope, provider)
            if after or self._drifts(scope):
                await self._altered(scope, receive, recording_send, provider, after)
            else:
                await self.app(scope, receive, recording_send)
            route = scope.get("route")
            template = getattr(route, "path", None) or scope["path"][len(provider.prefix):]
        self.stats.record(provider.name, scope["method"], template, status_box["status"])

    def _draw(self, rate: str, provider: Provider) -> bool:
        share = getattr(self.faults, rate)
        hit = bool(share) and self.random.random() < share
        if hit:
            self.stats.fault(provider.name, rate.removesuffix("_rate"))
        return hit

    def _before(self, provider: Provider) -> Response | None:
        """The 429 or 5xx answered instead of handling the request, or None."""
        faults = self.faults
        if faults.rate_limit:
            bucket = self.buckets.setdefault(provider.name, _Bucket(tokens=max(faults.rate_limit, 1.0)))
            wait = bucket.take(faults.rate_limit)
            if wait:
                self.stats.fault(provider.name, "rate_limit")
                injected = provider.error(429, "Too many requests")
                injected.headers["Retry-After"] = str(max(1, math.ceil(wait)))
                return injected
        if self._draw("error_rate", provider):
            return provider.error(self.random.choice((500, 502, 503)), "Injected server error")
        return None

    def _after(self, scope: Scope, provider: Provider) -> str | None:
        """Which fault spoils the answer once the handler has run, or None."""
        if scope["method"] != "GET" and self._draw("commit_error_rate", provider):
            return "commit_error"
        if self._draw("drop_rate", provider):
            return "drop"
        if scope["method"] == "GET" and self._draw("truncate_rate", provider):
            return "truncate"
        return None

    def _drifts(self, scope: Scope) -> bool:
        return scope["method"] == "GET" and any(getattr(self.faults, name) for name in _DRIFTS)

    async def _altered(self, scope: Scope, receive: Receive, send: Send, provider: Provider,
                       after: str | None) -> None:
        """Run the handler to the end, then answer its response spoiled by `after`/drift."""
        start: Message = {}
        chunks: list[bytes] = []

        async def keep(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, keep)
        body = b"".join(chunks)
        if after == "commit_error":
            injected = provider.error(self.random.choice((500, 502, 503)), "Injected error after commit")
            await injected(scope, receive, send)
            return
        whole_json = start["status"] == 200 and _is_json(start)
        if whole_json and self._drifts(scope):
            drifted = self._drift(body)
            if drifted != body:
                self.stats.fault(provider.name, "drift")
                body = drifted
        if after == "truncate" and whole_json:
            body = body[:len(body) // 2]
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        full_length = len(body)
        if after == "drop":
            body = body[:len(body) // 2]
        await send({**start, "headers": headers + [(b"content-length", str(full_length).encode())]})
        # A drop leaves the response unfinished: the server closes the connection.
        await send({"type": "http.response.body", "body": body, "more_body": after == "drop"})

    def _drift(self, body: bytes) -> bytes:
        try:
            document = json.loads(body)
        except ValueError:
            return body
        changed = _drift_records(document, self.faults)
        return json.dumps(document).encode() if changed else body

    def _provider(self, scope: Scope) -> Provider | None:
        if scope["type"] != "http":
            return None
        path = scope["path"]
        for provider in self.providers:
            if path == provider.prefix or path.startswith(provider.prefix + "/"):
                return provider
        return None


def _is_json(start: Message) -> bool:
    headers = {k.lower(): v for k, v in start.get("headers", [])}
    return headers.get(b"content-type", b"").startswith(b"application/json")


def _drift_records(value: Any, faults: Faults) -> bool:
    """Drift every record (a dict inside a list) in `value`, in place; answer whether any
    changed."""
    changed = False
    if isinstance(value, dict):
        for item in value.values():
            changed |= _drift_records(item, faults)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                changed |= _drift_record(item, faults)
            changed |= _drift_records(item, faults)
    return changed


def _drift_record(record: dict[str, Any], faults: Faults) -> bool:
    changed = False
    if faults.drift_add and faults.drift_add not in record:
        record[faults.drift_add] = f"drift {len(record)}"
        changed = True
    if faults.drift_drop and faults.drift_drop in record:
        del record[faults.drift_drop]
        changed = True
    value = record.get(faults.drift_retype) if faults.drift_retype else None
    if isinstance(value, str):
        record[faults.drift_retype] = {"value": value}
        changed = True
    elif isinstance(value, (bool, int, float)):
        record[faults.drift_retype] = json.dumps(value)
        changed = True
    return changed
