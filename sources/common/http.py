"""One HTTP client for every provider: rate budget, retries, Retry-After, clear auth errors.

Transient faults (connection errors, timeouts, 5xx, 429, a body that is not whole JSON) are
retried with exponential backoff; 429 waits what `Retry-After` says. 401/403 fail at once
with a message naming the provider and the setting to check. Messages never carry query
strings or headers, where the credentials travel.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from crmsync.kernel.errors import UserError

# httpx logs every request URL at INFO (DM Champ's key travels in the query string), and
# httpcore every response header at DEBUG (Waabot's renewed x-access-token among them).
for _chatty in ("httpx", "httpcore"):
    logging.getLogger(_chatty).setLevel(logging.WARNING)


class AuthError(UserError):
    """The provider refused the credentials: retrying cannot help."""


class RequestFailed(Exception):
    """A request still failed after every retry (or failed in a way retrying cannot fix)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 8
    backoff_s: float = 0.25
    backoff_max_s: float = 20.0
    retry_after_max_s: float = 120.0
    timeout_s: float = 30.0

    def delay(self, attempt: int) -> float:
        """Exponential backoff with full jitter."""
        return random.uniform(0, min(self.backoff_max_s, self.backoff_s * 2 ** attempt))


# Requests leave a little under the configured rate: arrivals jitter, and two that land closer
# than the provider's interval draw a 429 whose Retry-After costs a whole second (measured by
# `crmsync bench`: paced exactly at 1/s, 11 of 28 requests were refused; at 0.95/s, none).
RATE_MARGIN = 0.97


class RateLimiter:
    """A token bucket shared by every thread that talks to one provider; a rate of 0 (or
    None) paces nothing, for a server with no limit (its 429s are still honoured)."""

    def __init__(self, per_second: float | None) -> None:
        self.per_second = per_second
        self._interval = 1.0 / (per_second * RATE_MARGIN) if per_second else 0.0
        self._lock = threading.Lock()
        self._next_slot = time.monotonic()

    def acquire(self) -> None:
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_slot)
            self._next_slot = slot + self._interval
        if slot > now:
            time.sleep(slot - now)

    def hold(self, seconds: float) -> None:
        """Nobody sends before `seconds` from now (the server said Retry-After)."""
        if seconds <= 0:
            return
        with self._lock:
            self._next_slot = max(self._next_slot, time.monotonic() + seconds)


_TRANSIENT_STATUS = {429, 500, 502, 503, 504}


class ApiClient:
    """Requests to one provider. Thread-safe: pages may be fetched concurrently."""

    def __init__(
        self,
        provider: str,
        base_url: str,
        *,
        auth_setting: str,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        per_second: float | None = None,
        retry: RetryPolicy | None = None,
        on_response: Callable[[httpx.Response], None] | None = None,
    ) -> None:
        self.provider = provider
        self.auth_setting = auth_setting
        self.retry = retry or RetryPolicy()
        self.limiter = RateLimiter(per_second)
        self.default_params = params or {}
        self.on_response = on_response
        self.requests = 0
        self.retries = 0
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=headers or {},
            timeout=self.retry.timeout_s,
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=16),
        )

    def set_header(self, name: str, value: str) -> None:
        self._http.headers[name] = value

    def close(self) -> None:
        self._http.close()

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                json: Any = None, data: dict[str, Any] | None = None,
                accept: tuple[int, ...] = (), once: bool = False) -> httpx.Response:
        """Send with retries; answer any 2xx, or a status listed in `accept` (e.g. 404).
        `once`: a write that is not idempotent is sent at most once, because a lost answer
        (5xx, dropped connection) may hide a write that happened: the caller looks before
        sending it again. RequestFailed then has no status."""
        query = {**self.default_params, **(params or {})}
        where = f"{self.provider}: {method} {path}"
        last_problem, hint = "no attempt made", ""
        attempts = 1 if once else self.retry.attempts
        for attempt in range(attempts):
            self.limiter.acquire()
            self.requests += 1
            try:
                response = self._http.request(method, path, params=query, json=json, data=data)
                response.read()
            except httpx.TransportError as error:
                last_problem, hint = type(error).__name__, f"; check sources.{self.provider}.base_url"
                self.backoff(attempt)
                continue
            if self.on_response is not None:
                self.on_response(response)
            status = response.status_code
            if status < 300 or status in accept:
                return response
            if status in (401, 403):
                raise AuthError(
                    f"{self.provider}: the API refused the credentials ({status}); "
                    f"check sources.{self.provider}.{self.auth_setting}"
                )
            if status not in _TRANSIENT_STATUS:
                raise RequestFailed(f"{where} answered {status}: {_excerpt(response)}", status)
            last_problem, hint = f"status {status}", ""
            if status == 429:
                wait = _retry_after(response, self.retry.retry_after_max_s)
                self.limiter.hold(wait)
                self.retries += 1
                continue
            self.backoff(attempt)
        raise RequestFailed(f"{where} failed after {attempts} attempts ({last_problem}){hint}")

    def get_json(self, path: str, params: dict[str, Any] | None = None,
                 accept: tuple[int, ...] = (), json: Any = None) -> Any:
        """GET and parse; a body cut short is retried like any transient fault. `json` is a
        request body, for an API that reads one on GET (Waabot's instance credentials)."""
        for attempt in range(self.retry.attempts):
            response = self.request("GET", path, params=params, json=json, accept=accept)
            if response.status_code in accept and response.status_code >= 300:
                return None
            try:
                return orjson.loads(response.content)
            except orjson.JSONDecodeError:
                self.backoff(attempt)
        raise RequestFailed(f"{self.provider}: GET {path} kept answering incomplete JSON")

    def backoff(self, attempt: int) -> None:
        """Wait before attempt `attempt + 1` of something that failed transiently."""
        self.retries += 1
        time.sleep(self.retry.delay(attempt))


def _retry_after(response: httpx.Response, cap: float) -> float:
    value = response.headers.get("Retry-After", "1")
    try:
        return min(max(float(value), 0.0), cap)
    except ValueError:
        return 1.0


def _excerpt(response: httpx.Response) -> str:
    text = response.text.strip().replace("\n", " ")
    return text[:200] if text else "(empty body)"
