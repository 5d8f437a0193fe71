"""The HTTP client against servers that misbehave: Retry-After as seconds or a date (a fake
clock, no sleeping), bodies that are whole but not JSON against bodies cut short, and
credentials echoed back in error bodies."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from starlette.requests import Request
from starlette.responses import Response

from crmsync.sources.common.http import SLOW_DOWN, ApiClient, Clock, RequestFailed, RetryPolicy
from tests.hostile import json_response, serving

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


class FakeClock:
    """Monotonic time that moves only when the client sleeps; every sleep recorded."""

    def __init__(self) -> None:
        self.time = 1000.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.time += seconds

    def clock(self) -> Clock:
        return Clock(monotonic=lambda: self.time, sleep=self.sleep, now=lambda: NOW)


def once_then_ok(first: Response):
    """A handler answering `first` to the first request, `{}` to every other."""
    answers = [first]
    return lambda request: answers.pop() if answers else json_response(b"{}")


@pytest.mark.parametrize(("header", "waited"), [
    ("7", 7.0),
    ("2.5", 2.5),
    (format_datetime(NOW + timedelta(seconds=30), usegmt=True), 30.0),
    ("600", 120.0),  # capped at retry_after_max_s
    (format_datetime(NOW + timedelta(hours=2), usegmt=True), 120.0),
    ("soon", 1.0),  # unreadable: a second
    ("nan", 1.0),
])
def test_retry_after_waits_what_it_says_up_to_the_cap(header: str, waited: float) -> None:
    fake = FakeClock()
    with serving(once_then_ok(json_response(b"{}", 429, **{"Retry-After": header}))) as url:
        api = ApiClient("demo", url, auth_setting="api_key", clock=fake.clock(),
                        retry=RetryPolicy(retry_after_max_s=120.0))
        assert api.get_json("/x") == {}
    assert fake.slept == [pytest.approx(waited)] and api.requests == 2


def test_retry_after_in_the_past_waits_nothing() -> None:
    fake = FakeClock()
    past = format_datetime(NOW - timedelta(minutes=5), usegmt=True)
    with serving(once_then_ok(json_response(b"{}", 429, **{"Retry-After": past}))) as url:
        api = ApiClient("demo", url, auth_setting="api_key", clock=fake.clock())
        assert api.get_json("/x") == {}
    assert fake.slept == []


def test_pace_is_the_rate_until_a_429_then_slower() -> None:
    """Requests leave exactly at the configured rate (no margin to pay on every rate-bound
    run); a 429 says the server counts tighter: its Retry-After is waited, and the pace slows."""
    fake = FakeClock()
    with serving(once_then_ok(json_response(b"{}", 429, **{"Retry-After": "1"}))) as url:
        api = ApiClient("demo", url, auth_setting="api_key", clock=fake.clock(), per_second=10)
        sent: list[float] = []
        api.on_response = lambda response: sent.append(fake.time)
        for _ in range(4):
            api.get_json("/x")
    assert [round(b - a, 4) for a, b in zip(sent, sent[1:])] == [1.0, round(0.1 / SLOW_DOWN, 4),
                                                                 round(0.1 / SLOW_DOWN, 4), round(0.1 / SLOW_DOWN, 4)]
    api = ApiClient("demo", "http://unused.invalid", auth_setting="api_key", clock=fake.clock(), per_second=10)
    before = fake.time
    for _ in range(11):
        api.limiter.acquire()
    assert fake.time - before == pytest.approx(1.0)  # 10 intervals of exactly 1/10 s


@pytest.mark.parametrize(("body", "reason"), [
    (b'{"name": "\xff\xfe"}', "not valid UTF-8"),
    (b"[" * 5000 + b"]" * 5000, "depth limit exceeded"),
    (b"<html>Bad gateway</html>", "expected a JSON value"),
])
def test_a_whole_body_that_is_not_json_fails_at_once(body: bytes, reason: str) -> None:
    fake = FakeClock()
    with serving(lambda request: json_response(body)) as url:
        api = ApiClient("demo", url, auth_setting="api_key", clock=fake.clock())
        with pytest.raises(RequestFailed) as failure:
            api.get_json("/contacts")
    message = str(failure.value)
    assert message.startswith("demo: GET /contacts answered a body that is not valid JSON (")
    assert reason in message and "\n" not in message and not failure.value.transient
    assert api.requests == 1 and fake.slept == []


@pytest.mark.parametrize("cut", [
    json_response(b'{"results": [{"id": 1}, {"id": 2'),  # Content-Length says this is all
    json_response('{"name": "Adé"}'.encode()[:-3]),  # cut inside a character
    json_response('[{"name": "Adé Ọlá"}, {"name": "Ọ'.encode()),  # past characters of several bytes
    Response(b'{"results": []}', headers={"Content-Length": "400"}),  # fewer bytes than promised
])
def test_a_body_cut_short_is_asked_again(cut: Response) -> None:
    fake = FakeClock()
    with serving(once_then_ok(cut)) as url:
        api = ApiClient("demo", url, auth_setting="api_key", clock=fake.clock())
        assert api.get_json("/contacts") == {}
    assert api.requests == 2 and api.retries == 1


SECRETS = {"header": "hdr-Secret-1f9c", "bearer": "tok-Secret-77aa", "key": "key Secret/+&=8b2",
           "instance": "inst-Secret-51d0", "session": "sess-Secret-0c3e"}


def echo(status: int, first: str, padding: int):
    """A server that answers `status` with the headers and the full URL it got (`first` of
    them first), after `padding` dots: messages keep 200 characters of a body, and a
    credential cut there must not leak either."""

    def handler(request: Request) -> Response:
        got = {"headers": dict(request.headers), "url": str(request.url)}
        return Response("." * padding + json.dumps({first: got.pop(first), **got}), status,
                        media_type="application/json")

    return handler


@pytest.mark.parametrize(("status", "first", "padding"), [
    (400, "headers", 0), (500, "headers", 0), (400, "url", 0), (500, "url", 0),
    *((400, first, padding) for first in ("headers", "url") for padding in range(10, 200, 13)),
])
def test_no_credential_in_a_message_made_from_an_echoing_answer(status: int, first: str, padding: int) -> None:
    with serving(echo(status, first, padding)) as url:
        api = ApiClient("demo", url, auth_setting="api_key", clock=FakeClock().clock(),
                        retry=RetryPolicy(attempts=2),
                        headers={"x-api-key": SECRETS["header"], "Authorization": f"Bearer {SECRETS['bearer']}"},
                        params={"apiKey": SECRETS["key"]})
        with pytest.raises(RequestFailed) as failure:
            api.get_json("/contacts", {"access_token": SECRETS["instance"], "session_id": SECRETS["session"],
                                       "phoneNumber": "+2348031234567"})
    message = str(failure.value)
    assert "\n" not in message and ("***" in message or padding)  # scrubbed, not emptied
    assert [name for name, secret in SECRETS.items() if secret[:8] in message or secret[:8].lower() in message] == []
