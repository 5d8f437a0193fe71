"""A look-up provider that refuses most look-ups (a 4xx other than 404) fails the run with
the first refusal, scrubbed; a few refusals stay misses, and not-found (404) is no refusal."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.requests import Request

from crmsync.pipelines.sync import ProviderResult, sync_provider
from crmsync.sources.chatrace import helpers as chatrace
from crmsync.sources.common.http import ApiClient, Bounds, RequestFailed
from crmsync.sources.common.known_people import Person
from crmsync.sources.common.lookups import look_up_all
from tests.hostile import json_response, serving
from tests.sources.conftest import TEMPLATE_WAREHOUSE, query, sync_others_once

KEY = "dmchamp-Key-3d51a0"


@pytest.fixture(scope="module")
def known_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Chatman synced from the sandbox once: the people DM Champ is asked about."""
    return sync_others_once(tmp_path_factory.mktemp("known"), ["chatman"])


@pytest.fixture()
def dmchamp_at(known_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """sync_provider("dmchamp") against a test server, from a warehouse holding known people."""
    shutil.copy(known_template / TEMPLATE_WAREHOUSE, tmp_path / "w.duckdb")
    shutil.copytree(known_template / "pipelines", tmp_path / "pipelines")
    monkeypatch.setenv("CRMSYNC_PIPELINES_DIR", str(tmp_path / "pipelines"))

    def sync(url: str, **settings: str) -> ProviderResult:
        for key, value in {"base_url": url, "api_key": KEY, "requests_per_second": "0", **settings}.items():
            monkeypatch.setenv(f"SOURCES__DMCHAMP__{key.upper()}", value)
        return sync_provider("dmchamp", tmp_path / "w.duckdb")

    return sync


def echoing(status: int) -> Callable[[Request], object]:
    return lambda request: json_response(b'{"message": "invalid request %s"}' % str(request.url).encode(), status)


def test_dmchamp_refusing_every_look_up_fails_with_the_first_refusal(dmchamp_at) -> None:
    with serving(echoing(400)) as url:
        result = dmchamp_at(url)
    assert result.status == "failed" and not result.transient
    refused, asked = result.error.split(" look-ups")[0].removeprefix("dmchamp: ").split(" of ")
    assert int(refused) == int(asked) > 20, result.error
    assert result.error.startswith(f"dmchamp: {refused} of {asked} look-ups refused, more than "
                                   f"sources.dmchamp.lookup_refused_share (0.5); the first: dmchamp: GET "
                                   f"/contacts answered 400: ")
    assert "apiKey=***" in result.error and KEY not in result.error and "\n" not in result.error


def test_refusals_below_the_minimum_are_misses(dmchamp_at, tmp_path: Path) -> None:
    with serving(echoing(422)) as url:
        result = dmchamp_at(url, lookup_refused_min="100000")
    assert result.status == "ok", result.error
    assert sum(result.problems["lookups"].values()) >= result.read["lookups"] > 20
    assert query(tmp_path / "w.duckdb", "SELECT count(contact_id) FROM raw_dmchamp.lookups") == [(0,)]


def test_not_found_is_no_refusal(dmchamp_at) -> None:
    with serving(lambda request: json_response(b'{"message": "not found"}', 404)) as url:
        result = dmchamp_at(url)
    assert result.status == "ok" and result.read["lookups"] > 20, result.error


def people(n: int) -> list[Person]:
    return [Person(f"+23480{i:08d}", f"+23480{i:08d}", (f"p{i}@example.com",)) for i in range(n)]


def test_chatrace_look_ups_follow_the_same_rule() -> None:
    """Chatrace answers 400 to phones but finds every email: half the look-ups refused is
    not more than the share; every one refused is."""

    def answer(request: Request):
        if request.query_params["field_id"] == "phone":
            return json_response(b'{"message": "invalid phone"}', 400)
        return json_response(b'{"data": [{"id": 7}]}')

    with serving(answer) as url:
        api = ApiClient("chatrace", url, auth_setting="access_token", bounds=Bounds(lookup_refused_min=5))
        answers = look_up_all(api, people(30), chatrace.look_up, 4)
        assert [a.contact_ids for a in answers] == [[7]] * 30 and sum(a.rejected for a in answers) == 30
        with pytest.raises(RequestFailed, match=r"^chatrace: 30 of 30 look-ups refused, more than "
                                                r"sources\.chatrace\.lookup_refused_share \(0\.5\); the first: "
                                                r"chatrace: GET /contacts/find_by_custom_field answered 400: "):
            look_up_all(api, [Person(p.key, p.phone, ()) for p in people(30)], chatrace.look_up, 4)
