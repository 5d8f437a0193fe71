"""One HTTP client for every provider: rate budget, retries, Retry-After, clear auth errors.

Transient faults (connection errors, timeouts, 5xx, 429, a body cut short) are retried with
exponential backoff; 429 waits what `Retry-After` says. 401/403 fail at once with a message
naming the provider and the setting to check. Whether a failure is transient travels on the
exception (`RequestFailed.transient`), never in its wording. Every message this layer makes
has the client's credentials replaced by `***` (a provider may echo them in an error body).
"""

from __future__ import annotations

import json
import logging
import math
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import orjson

from crmsync.kernel.errors import UserError
from crmsync.kernel.provider import Setting

# httpx logs every request URL at INFO (DM Champ's key travels in the query string), and
# httpcore every response header at DEBUG (Waabot's renewed x-access-token among them).
for _chatty in ("httpx", "httpcore"):
    logging.getLogger(_chatty).setLevel(logging.WARNING)


class AuthError(UserError):
    """The provider refused the credentials: retrying cannot help."""


class RequestFailed(Exception):
    """A request failed: after every retry of a transient fault (`transient`: a later run may
    not meet it), or in a way retrying cannot fix."""

    def __init__(self, message: str, status: int | None = None, *, transient: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.transient = transient


def is_transient(error: BaseException) -> bool:
    """Whether a later attempt may not meet this failure: the HTTP layer says so on what it
    raises, and a network error that escaped it is one. Refused credentials, a setting, a 4xx
    the API meant, a bug or bad data do not heal by waiting."""
    if isinstance(error, RequestFailed):
        return error.transient
    return isinstance(error, httpx.TransportError | TimeoutError | ConnectionError)


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


@dataclass(frozen=True)
class Bounds:
    """How much a provider may answer before crmsync stops believing it: pages and records of
    one listing (a server looping on its cursor would otherwise be read forever), and the share
    of a run's look-ups it may refuse (past it: a key or format problem, not invalid people)
    once at least `lookup_refused_min` were refused."""

    max_pages: int = 100_000
    max_records: int = 50_000_000
    lookup_refused_share: float = 0.5
    lookup_refused_min: int = 20

    @classmethod
    def of(cls, settings: Mapping[str, Any]) -> Bounds:
        """The bounds a provider's settings set (those it has; defaults for the others)."""
        return cls(**{f.name: settings[f.name] for f in fields(cls) if f.name in settings})


# The settings every provider has (listings) and those of providers that look people up.
LISTING_SETTINGS = (
    Setting("max_pages", default=Bounds.max_pages),  # pages of one listing before it fails
    Setting("max_records", default=Bounds.max_records),  # records of one listing before it fails
)
LOOKUP_SETTINGS = (
    # More than this share of a run's look-ups refused (4xx other than 404) fails the run...
    Setting("lookup_refused_share", default=Bounds.lookup_refused_share),
    Setting("lookup_refused_min", default=Bounds.lookup_refused_min),  # ...once this many were refused
)


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Clock:
    """The time the client waits by; tests give a fake one instead of sleeping."""

    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], datetime] = _utc_now  # wall time, for a Retry-After given as a date


# Requests leave at the configured rate, which a server that counts tighter than that (arrivals
# jitter: two that land closer than its interval) answers with a 429 whose Retry-After costs a
# whole second. Each such 429 slows this client by SLOW_DOWN for the rest of the run, never
# below MIN_PACE of the rate: a server that takes the rate exactly costs no margin, one that
# does not costs a 429 or two (`crmsync bench`: paced exactly at 1/s, 11 of 28 requests were
# refused; at 0.95/s none). A fixed 3% margin cost 3% of every rate-bound run.
SLOW_DOWN = 0.97
MIN_PACE = 0.5


class RateLimiter:
    """A token bucket shared by every thread that talks to one provider; a rate of 0 (or
    None) paces nothing, for a server with no limit (its 429s are still honoured)."""

    def __init__(self, per_second: float | None, clock: Clock = Clock()) -> None:
        self.per_second = per_second
        self.clock = clock
        self._interval = 1.0 / per_second if per_second else 0.0
        self._lock = threading.Lock()
        self._next_slot = clock.monotonic()
        self._slowed_at = self._next_slot  # when the pace last slowed down

    def acquire(self) -> float:
        """Wait for this request's slot; answer it (monotonic seconds)."""
        with self._lock:
            now = self.clock.monotonic()
            slot = max(now, self._next_slot)
            self._next_slot = slot + self._interval
        if slot > now:
            self.clock.sleep(slot - now)
        return slot

    def refused(self, seconds: float, sent_at: float) -> None:
        """The server answered 429 to a request sent at `sent_at`, asking for `seconds`:
        nobody sends before then, and the pace slows (once for the requests sent before the
        last slow-down took effect: they were paced the old way)."""
        with self._lock:
            now = self.clock.monotonic()
            self._next_slot = max(self._next_slot, now + max(seconds, 0.0))
            if self.per_second and sent_at >= self._slowed_at:
                self._interval = min(self._interval / SLOW_DOWN, 1.0 / (self.per_second * MIN_PACE))
                self._slowed_at = now


_TRANSIENT_STATUS = {429, 500, 502, 503, 504}
# Parameters that carry credentials (in a query string or a JSON body), whatever the client
# was configured with.
_CREDENTIAL_NAMES = frozenset({"apikey", "api_key", "access_token", "token", "session_id", "password"})
_CREDENTIAL_PARAM = re.compile(rf"(?i)\b({'|'.join(sorted(_CREDENTIAL_NAMES))})=[^&\s\"'<>]+")


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
        bounds: Bounds | None = None,
        on_response: Callable[[httpx.Response], None] | None = None,
        clock: Clock = Clock(),
    ) -> None:
        self.provider = provider
        self.auth_setting = auth_setting
        self.retry = retry or RetryPolicy()
        self.bounds = bounds or Bounds()
        self.clock = clock
        self.limiter = RateLimiter(per_second, clock)
        self.default_params = params or {}
        self.on_response = on_response
        self.requests = 0
        self.retries = 0
        # Values that must never appear in a message: the configured headers and parameters,
        # and any credential a request carried (a renewed token, Waabot's instance ones).
        self._secrets: set[str] = set()
        self._secrets_lock = threading.Lock()
        self._keep_secret(*(headers or {}).values(), *self.default_params.values())
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=headers or {},
            timeout=self.retry.timeout_s,
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=16),
        )

    def set_header(self, name: str, value: str) -> None:
        self._keep_secret(value)
        self._http.headers[name] = value

    def close(self) -> None:
        self._http.close()

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                json: Any = None, data: dict[str, Any] | None = None,
                accept: tuple[int, ...] = (), once: bool = False,
                on_lost: Callable[[], None] | None = None) -> httpx.Response:
        """Send with retries; answer any 2xx, or a status listed in `accept` (e.g. 404).
        `once`: a write that is not idempotent is sent at most once, because a lost answer
        (5xx, dropped connection) may hide a write that happened: the caller looks before
        sending it again. RequestFailed then has no status. `on_lost` is called for each
        attempt whose answer was lost after it was sent: a create retried after it answers
        "already exists" when that attempt made it."""
        query = {**self.default_params, **(params or {})}
        self._remember_credentials(query, json)
        where = f"{self.provider}: {method} {path}"
        last_problem, hint = "no attempt made", ""
        attempts = 1 if once else self.retry.attempts
        for attempt in range(attempts):
            sent_at = self.limiter.acquire()
            self.requests += 1
            try:
                response = self._http.request(method, path, params=query, json=json, data=data)
                response.read()
            except httpx.TransportError as error:
                last_problem, hint = type(error).__name__, f"; check sources.{self.provider}.base_url"
                if on_lost is not None and not isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout)):
                    on_lost()
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
                raise self.failed(f"{where} answered {status}: {self.excerpt(response)}", status)
            last_problem, hint = f"status {status}: {self.excerpt(response)}", ""
            if status != 429 and on_lost is not None:  # a 5xx may come after the write was made
                on_lost()
            if status == 429:
                self.limiter.refused(_retry_after(response, self.retry.retry_after_max_s, self.clock.now()), sent_at)
                self.retries += 1
                continue
            self.backoff(attempt)
        raise self.failed(f"{where} failed after {attempts} attempts ({last_problem}){hint}", transient=True)

    def get_json(self, path: str, params: dict[str, Any] | None = None,
                 accept: tuple[int, ...] = (), json: Any = None) -> Any:
        """GET and parse; a body cut short is retried like any transient fault, a body that is
        whole but not JSON fails at once. `json` is a request body, for an API that reads one
        on GET (Waabot's instance credentials)."""
        for attempt in range(self.retry.attempts):
            response = self.request("GET", path, params=params, json=json, accept=accept)
            if response.status_code in accept and response.status_code >= 300:
                return None
            try:
                return orjson.loads(response.content)
            except orjson.JSONDecodeError as error:
                if not _cut_short(response.content, error):
                    raise self.failed(f"{self.provider}: GET {path} answered a body that is not "
                                      f"valid JSON ({error.msg} at byte {error.pos})") from None
                self.backoff(attempt)
        raise self.failed(f"{self.provider}: GET {path} kept answering incomplete JSON", transient=True)

    def backoff(self, attempt: int) -> None:
        """Wait before attempt `attempt + 1` of something that failed transiently."""
        self.retries += 1
        self.clock.sleep(self.retry.delay(attempt))

    def create(self, path: str, *, json: Any, params: dict[str, Any] | None = None,
               accept: tuple[int, ...] = ()) -> tuple[httpx.Response, bool]:
        """POST a create, with retries; answer the response and whether an earlier attempt's
        answer was lost: then an "already exists" answer means crmsync made it after all."""
        lost: list[bool] = []
        response = self.request("POST", path, params=params, json=json, accept=accept,
                                on_lost=lambda: lost.append(True))
        return response, bool(lost)

    def failed(self, message: str, status: int | None = None, *, transient: bool = False) -> RequestFailed:
        """The failure to raise, its message scrubbed of every credential this client holds."""
        return RequestFailed(self.scrub(message), status, transient=transient)

    def excerpt(self, response: httpx.Response) -> str:
        """The start of an answer's body, on one line; scrubbed before it is cut, so that no
        credential is cut into a piece scrubbing would not recognise."""
        text = self.scrub(response.text.strip().replace("\n", " "))
        return text[:200] if text else "(empty body)"

    def scrub(self, text: str) -> str:
        """`text` with each credential (as sent: raw, URL- or JSON-encoded) replaced by ***."""
        text = _CREDENTIAL_PARAM.sub(lambda match: f"{match.group(1)}=***", text)
        with self._secrets_lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            for form in {secret, quote(secret, safe=""), quote_plus(secret), _json_text(secret)}:
                text = text.replace(form, "***")
        return text

    def _remember_credentials(self, query: Mapping[str, Any], body: Any) -> None:
        """Credentials a request carries beside the configured ones (Waabot's instance
        credentials, in the query or a JSON body on GET) are secrets too."""
        sent = {**query, **(body if isinstance(body, dict) else {})}
        self._keep_secret(*(str(value) for name, value in sent.items() if name.lower() in _CREDENTIAL_NAMES))

    def _keep_secret(self, *values: str) -> None:
        """Remember credentials; of `Bearer <token>` the token alone too (an echo may drop
        the scheme). Empty values are no secret (and would match everywhere)."""
        kept = {form for value in values for form in (value, value.split(" ")[-1]) if form}
        if not kept <= self._secrets:
            with self._secrets_lock:
                self._secrets |= kept


def _json_text(value: str) -> str:
    """How `value` reads inside a JSON string."""
    return json.dumps(value)[1:-1]


def _retry_after(response: httpx.Response, cap: float, now: datetime) -> float:
    """The seconds `Retry-After` asks for (a number, or an HTTP date after `now`), at most
    `cap`; 1 s when it is missing or unreadable (NaN included: it would poison the limiter)."""
    value = response.headers.get("Retry-After", "1").strip()
    try:
        wait = float(value)
    except ValueError:
        try:
            wait = (parsedate_to_datetime(value) - now).total_seconds()
        except (TypeError, ValueError):
            return 1.0
    return 1.0 if math.isnan(wait) else min(max(wait, 0.0), cap)


def _cut_short(content: bytes, error: orjson.JSONDecodeError) -> bool:
    """Whether the parser ran out of body (a transfer cut short, worth asking again) rather
    than into something wrong (invalid UTF-8, nesting past orjson's 1024 levels, not JSON)."""
    try:  # orjson checks UTF-8 first: a body cut inside a character fails there
        text = content.decode()
    except UnicodeDecodeError as bad:
        return bad.reason == "unexpected end of data"
    return error.pos >= len(text)  # orjson counts characters, not bytes
