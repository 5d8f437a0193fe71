"""Latency, rate limits and random server errors, switchable at run time, plus request stats.

One ASGI middleware in front of every provider. Faults happen before the provider handles
the request, so an injected error never has a side effect. Rate limits are a token bucket per
provider: a request over the limit gets that provider's 429 with a `Retry-After` header.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections import Counter
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox.provider import Provider


@dataclass
class Faults:
    latency_ms: float = 0.0
    rate_limit: float | None = None  # requests per second, per provider
    error_rate: float = 0.0
    seed: int = 0

    def update(self, changes: dict) -> None:
        for name in ("latency_ms", "rate_limit", "error_rate"):
            if name in changes:
                setattr(self, name, changes[name])

    def as_dict(self) -> dict:
        return {"latency_ms": self.latency_ms, "rate_limit": self.rate_limit,
                "error_rate": self.error_rate}


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
    """Requests answered, per provider, by "METHOD /path/template" and status."""

    def __init__(self) -> None:
        self.requests: dict[str, Counter] = {}
        self.statuses: dict[str, Counter] = {}

    def record(self, provider: str, method: str, template: str, status: int) -> None:
        self.requests.setdefault(provider, Counter())[f"{method} {template}"] += 1
        self.statuses.setdefault(provider, Counter())[str(status)] += 1

    def as_dict(self) -> dict:
        return {
            "requests": {p: dict(c) for p, c in self.requests.items()},
            "statuses": {p: dict(c) for p, c in self.statuses.items()},
        }

    def reset(self) -> None:
        self.requests.clear()
        self.statuses.clear()


class FaultMiddleware:
    def __init__(self, app: ASGIApp, providers: list[Provider], faults: Faults, stats: Stats):
        self.app = app
        self.providers = providers
        self.faults = faults
        self.stats = stats
        self.buckets: dict[str, _Bucket] = {}
        self.random = random.Random(faults.seed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        provider = self._provider(scope)
        if provider is None:
            await self.app(scope, receive, send)
            return
        faults = self.faults
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        status_box = {"status": 0}

        async def recording_send(message: dict) -> None:
            if message["type"] == "http.response.start":
                status_box["status"] = message["status"]
            await send(message)

        injected = None
        if faults.rate_limit:
            bucket = self.buckets.setdefault(provider.name, _Bucket(tokens=max(faults.rate_limit, 1.0)))
            wait = bucket.take(faults.rate_limit)
            if wait:
                injected = provider.error(429, "Too many requests")
                injected.headers["Retry-After"] = str(max(1, math.ceil(wait)))
        if injected is None and faults.error_rate and self.random.random() < faults.error_rate:
            status = self.random.choice((500, 502, 503))
            injected = provider.error(status, "Injected server error")
        if injected is not None:
            await injected(scope, receive, recording_send)
            template = scope["path"][len(provider.prefix):]
        else:
            await self.app(scope, receive, recording_send)
            route = scope.get("route")
            template = getattr(route, "path", None) or scope["path"][len(provider.prefix):]
        self.stats.record(provider.name, scope["method"], template, status_box["status"])

    def _provider(self, scope: Scope) -> Provider | None:
        if scope["type"] != "http":
            return None
        path = scope["path"]
        for provider in self.providers:
            if path == provider.prefix or path.startswith(provider.prefix + "/"):
                return provider
        return None
