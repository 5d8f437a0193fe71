"""Flow settings from configuration; the dependency order of the provider tasks; serve."""

from __future__ import annotations

from pathlib import Path

import pytest
from crmsync.flows import serve as serve_module
from crmsync.flows.settings import FlowSettings, flow_settings
from crmsync.kernel.errors import UserError
from crmsync.sources.common.config import provider_settings
from crmsync.sources.registry import sync_waves


def test_settings_default_and_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert flow_settings() == FlowSettings()
    monkeypatch.setenv("FLOW__SYNC_CRON", "*/5 * * * *")
    monkeypatch.setenv("FLOW__TRANSFORM_ON_PARTIAL_SYNC", "true")
    monkeypatch.setenv("FLOW__RETRIES", "4")
    settings = flow_settings()
    assert (settings.sync_cron, settings.transform_on_partial_sync, settings.retries) == ("*/5 * * * *", True, 4)
    monkeypatch.setenv("FLOW__TRANSFORM_ON_PARTIAL_SYNC", "sometimes")
    with pytest.raises(UserError, match="flow.transform_on_partial_sync"):
        flow_settings()


def test_listable_providers_together_then_the_lookups_in_order() -> None:
    every = ["chatman", "whautomate", "waabot", "chatrace", "dmchamp"]
    assert sync_waves(every) == [["chatman", "whautomate", "waabot"], ["chatrace"], ["dmchamp"]]
    assert sync_waves(["dmchamp", "waabot"]) == [["waabot"], ["dmchamp"]]


def test_a_full_scan_replaces_the_configured_scan_spacing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__CHATMAN__BASE_URL", "http://127.0.0.1:9/chatman")
    monkeypatch.setenv("SOURCES__CHATMAN__API_KEY", "key")
    monkeypatch.setenv("SOURCES__CHATMAN__FULL_SCAN_HOURS", "12")
    assert provider_settings("chatman")["full_scan_hours"] == 12
    assert provider_settings("chatman", full_scan=True)["full_scan_hours"] == 0
    monkeypatch.setenv("SOURCES__CHATRACE__ACCESS_TOKEN", "token")
    assert provider_settings("chatrace", full_scan=True)["comments_full_refresh_hours"] == 0


def test_serve_uses_the_configured_crons_and_never_pauses(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FLOW__FULL_SCAN_CRON", "30 2 * * *")
    served = {}
    monkeypatch.setattr(serve_module, "serve", lambda *deployments, **options: served.update(
        deployments=deployments, options=options))
    serve_module.serve_forever(tmp_path / "w.duckdb")
    assert served["options"]["pause_on_shutdown"] is False
    crons = {d.name: d.schedules[0].schedule.cron for d in served["deployments"]}
    assert crons == {"crmsync-sync": "*/15 * * * *", "crmsync-full-scan": "30 2 * * *"}
    assert all(d.parameters["warehouse"] == str(tmp_path / "w.duckdb") for d in served["deployments"])


def test_each_provider_of_a_lake_runs_on_its_own_cron(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from crmsync.flows.serve import lake_deployments
    from crmsync.flows.settings import flow_settings
    from crmsync.kernel.warehouse import parse_warehouse

    monkeypatch.setenv("SOURCES__DMCHAMP__SYNC_CRON", "0 */2 * * *")
    monkeypatch.setenv("FLOW__SYNC_CRON", "*/10 * * * *")
    monkeypatch.setenv("WAREHOUSE__DATA_PATH", str(tmp_path / "lake"))
    lake = parse_warehouse("ducklake:postgres:dbname=crm host=localhost")
    crons = {d.name: d.schedules[0].schedule.cron for d in lake_deployments(lake, flow_settings())}
    assert crons["crmsync-sync-dmchamp"] == "0 */2 * * *"
    assert crons["crmsync-sync-chatman"] == "*/10 * * * *" == crons["crmsync-transform-push"]
    monkeypatch.setenv("SOURCES__DMCHAMP__SYNC_CRON", "every two hours")
    with pytest.raises(UserError, match="sources.dmchamp.sync_cron: not a cron expression"):
        lake_deployments(lake, flow_settings())
