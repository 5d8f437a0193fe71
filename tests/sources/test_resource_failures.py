"""A failing endpoint fails its resource only (issue #14): the provider's contacts and other
resources still load and their cursors move on, and the failure is reported per resource. A
resource switched off in `skip_resources` makes no request. Over real HTTP: the sandbox
behind a proxy that answers 404 on one endpoint."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from crmsync.pipelines.sync import ProviderResult, sync_provider
from crmsync.sandbox.server import SandboxServer
from crmsync.sandbox.world import World

from tests.hostile import refusing
from tests.sources.conftest import query
from tests.test_cli import crmsync


@pytest.fixture()
def sandbox() -> Iterator[SandboxServer]:
    """A small sandbox: every provider has contacts and every resource records, quickly."""
    with SandboxServer(World(seed=7, contacts=60)) as server:
        yield server


@contextmanager
def refused(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch, provider: str, path: str,
            query: str = "") -> Iterator[str]:
    """`provider` pointed at a proxy of the sandbox answering 404 on `path` (a regex)."""
    setting = f"SOURCES__{provider.upper()}__BASE_URL"
    with refusing(sandbox.url, path, query=query) as proxy:
        monkeypatch.setenv(setting, os.environ[setting].replace(sandbox.url, proxy))
        yield proxy


def twice(provider: str, warehouse: Path) -> tuple[ProviderResult, ProviderResult]:
    return sync_provider(provider, warehouse), sync_provider(provider, warehouse)


def requests_of(sandbox: SandboxServer, provider: str) -> dict[str, int]:
    return httpx.get(f"{sandbox.url}/_sandbox/stats", timeout=10).json()["requests"][provider]


def assert_failed_alone(result: ProviderResult, provider: str, resource: str, path: str) -> None:
    assert result.status == "partial" and list(result.failed_resources) == [resource], result.error
    assert path in result.failed_resources[resource] and "404" in result.failed_resources[resource]
    assert result.error.startswith(f"{provider}: {resource} failed: GET {path}")
    assert not result.transient  # a 404 does not heal by retrying the provider


def test_chatman_journeys_404_fails_journeys_only(sandbox: SandboxServer, warehouse: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    with refused(sandbox, monkeypatch, "chatman", r"/journeys/$"):
        first, second = twice("chatman", warehouse)
    assert_failed_alone(first, "chatman", "journeys", "/journeys/")
    assert first.rows["contacts"] > 0 and first.rows["triggered_events"] > 0 and first.rows["segments"] > 0
    # Their cursors moved on: the second run loads nothing again.
    assert second.status == "partial" and not second.rows.get("contacts") and not second.rows.get("triggered_events")
    assert query(warehouse, "SELECT count(*) FROM raw_chatman.contacts")[0][0] == first.rows["contacts"]


def test_whautomate_clients_404_fails_clients_only(sandbox: SandboxServer, warehouse: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    with refused(sandbox, monkeypatch, "whautomate", r"/clients$"):
        first, second = twice("whautomate", warehouse)
    assert_failed_alone(first, "whautomate", "clients", "/clients")
    assert first.rows["contacts"] > 0 and first.rows["messages"] > 0 and first.rows["segments"] > 0
    assert second.status == "partial" and not second.rows.get("contacts") and not second.rows.get("messages")


def test_chatrace_pipeline_custom_fields_404_fails_them_only(sandbox: SandboxServer, warehouse: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    with refused(sandbox, monkeypatch, "chatrace", r"/pipelines/\d+/custom_fields$"):
        first, second = twice("chatrace", warehouse)
    assert_failed_alone(first, "chatrace", "pipeline_custom_fields", "/pipelines/")
    assert "/custom_fields" in first.failed_resources["pipeline_custom_fields"]
    assert first.rows["contacts"] > 0 and first.rows["opportunities"] > 0 and first.rows["stages"] > 0
    assert second.status == "partial" and not second.rows.get("opportunities") and not second.rows.get("contacts")


def test_a_listing_cut_short_marks_nothing_deleted(sandbox: SandboxServer, warehouse: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Chatman's segments and segment members read one segment listing: cut short at its
    second page, neither may take the segments it did not reach for deleted."""
    monkeypatch.setenv("SOURCES__CHATMAN__PAGE_SIZE", "2")
    live = "SELECT count(*) FROM raw_chatman.{} WHERE deleted_at IS NULL"
    assert sync_provider("chatman", warehouse).status == "ok"
    before = [query(warehouse, live.format(t))[0][0] for t in ("segments", "segment_members")]
    assert before[0] > 2 and before == [before[0]] * 2
    with refused(sandbox, monkeypatch, "chatman", r"/segments/$", query="after="):
        result = sync_provider("chatman", warehouse)
    assert result.status == "partial" and set(result.failed_resources) == {"segments", "segment_members"}
    assert [query(warehouse, live.format(t))[0][0] for t in ("segments", "segment_members")] == before


def test_the_contacts_endpoint_failing_still_fails_the_provider(sandbox: SandboxServer, warehouse: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    with refused(sandbox, monkeypatch, "chatman", r"/contacts/$"):
        result = sync_provider("chatman", warehouse)
    assert result.status == "failed" and "/contacts/" in result.error and "404" in result.error
    assert not warehouse.exists() or not query(
        warehouse, "SELECT * FROM duckdb_tables() WHERE schema_name = 'raw_chatman' AND table_name = 'segments'")


def test_sync_json_names_the_failed_resource(sandbox: SandboxServer, tmp_path: Path) -> None:
    with refusing(sandbox.url, r"/journeys/$") as proxy:
        result = crmsync("sync", "--provider", "chatman", "--sandbox", proxy,
                         "--warehouse", str(tmp_path / "w.duckdb"), "--json", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    chatman = json.loads(result.stdout)["providers"]["chatman"]
    assert chatman["status"] == "partial" and list(chatman["failed_resources"]) == ["journeys"]
    assert "404" in chatman["failed_resources"]["journeys"] and chatman["rows"]["contacts"] > 0


def test_a_switched_off_resource_makes_no_request(sandbox: SandboxServer, warehouse: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__CHATMAN__SKIP_RESOURCES", '["journeys", "custom_event_types"]')
    result = sync_provider("chatman", warehouse)
    assert result.status == "ok", result.error
    asked = requests_of(sandbox, "chatman")
    assert "GET /journeys/" not in asked and "GET /events/custom/" not in asked
    assert asked["GET /contacts/"] >= 1 and asked["GET /segments/"] >= 1
    assert "journeys" not in result.rows and result.rows["contacts"] > 0


@pytest.mark.parametrize("skipped, words", [
    ('["journey"]', ["sources.chatman.skip_resources", "'journey'", "did you mean journeys?"]),
    ('["contacts"]', ["sources.chatman.skip_resources", "cannot switch off contacts"]),
])
def test_skip_resources_is_checked(sandbox: SandboxServer, warehouse: Path, monkeypatch: pytest.MonkeyPatch,
                                   skipped: str, words: list[str]) -> None:
    monkeypatch.setenv("SOURCES__CHATMAN__SKIP_RESOURCES", skipped)
    result = sync_provider("chatman", warehouse)
    assert result.status == "failed" and "\n" not in result.error and result.requests == 0
    for word in words:
        assert word in result.error, result.error
