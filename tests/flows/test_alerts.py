"""Alerts: the monitors over a real warehouse, `crmsync status --check`, the `[alerts]`
settings check, and a notification through Apprise to a webhook receiver on loopback."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from crmsync.flows.alerts import AlertSettings, alert_settings, check, notify
from crmsync.flows.job import alert
from crmsync.flows.ops import write_sync_run
from crmsync.flows.status import read_status
from crmsync.flows.summary import RunSummary, StepOutcome, run_state
from crmsync.kernel.errors import UserError
from crmsync.pipelines.push import sql as push_sql
from crmsync.pipelines.sync import ProviderResult

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def run_at(warehouse: Path, at: datetime, waabot_ok: bool = True) -> None:
    providers = {"chatman": ProviderResult(rows={"contacts": 5}, read={"contacts": 5}),
                 "waabot": ProviderResult(rows={"contacts": 3}, read={"contacts": 3}) if waabot_ok
                 else ProviderResult("failed", "waabot: the API refused the credentials (401)")}
    summary = RunSummary(f"run-{at:%H%M}", "crmsync-sync", at - timedelta(minutes=1), at, providers=providers,
                         transform=StepOutcome("ok"), push=StepOutcome("ok"))
    summary.state, summary.reason = run_state(summary)
    write_sync_run(warehouse, summary)


def push_log(warehouse: Path, rows: list[tuple[str, str, str, str]]) -> None:
    """A push run with (segment, provider, status, error) rows in ops.push_log."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute(push_sql("push_tables"))
        con.execute("INSERT INTO ops.push_runs (run_id, started_at, status) VALUES ('p1', ?, 'ok')", [NOW])
        con.executemany("INSERT INTO ops.push_log VALUES ('p1', ?, ?, 'person', NULL, 'remove', ?, ?, ?)",
                        [(provider, segment, status, error, NOW) for segment, provider, status, error in rows])


def test_every_monitor_over_a_real_warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    warehouse = tmp_path / "w.duckdb"
    run_at(warehouse, NOW - timedelta(hours=30))
    run_at(warehouse, NOW - timedelta(hours=2), waabot_ok=False)  # partial; waabot last fresh 30 h ago
    push_log(warehouse, [("vip", "chatman", "held", "mass-removal guard"),
                         ("vip", "waabot", "rejected", "invalid phone"), ("vip", "waabot", "ok", None)])
    found = check(read_status(warehouse), AlertSettings(), NOW)
    assert [a.monitor for a in found] == ["run", "held", "rejected", "stale"]
    assert "partial" in found[0].text and "credentials" in found[0].text
    assert found[1].text.startswith("vip → chatman: 1 removals held")
    assert found[2].text.startswith("vip → waabot: 1 memberships rejected, e.g. invalid phone")
    assert found[3].text == "waabot: last synced 30.0 h ago (freshness_hours 26)"

    monkeypatch.setenv("SOURCES__WAABOT__FRESHNESS_HOURS", "48")  # one provider's own threshold
    monkeypatch.setenv("ALERTS__FRESHNESS_HOURS", "1")
    stale = [a.text for a in check(read_status(warehouse), alert_settings(), NOW) if a.monitor == "stale"]
    assert stale == ["chatman: last synced 2.0 h ago (freshness_hours 1)"]


def crmsync(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ALERTS__", "SOURCES__"))}
    return subprocess.run([sys.executable, "-m", "crmsync", *args], capture_output=True, text=True, timeout=60,
                          env={**clean, "COLUMNS": "160", **env})


def test_status_check_exits_1_on_an_alert_0_when_healthy_and_2_on_a_missing_warehouse(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    run_at(warehouse, datetime.now(UTC))
    healthy = crmsync("status", "--check", "--warehouse", str(warehouse), "--json")
    assert healthy.returncode == 0, healthy.stderr
    assert json.loads(healthy.stdout)["alerts"] == []

    run_at(warehouse, datetime.now(UTC), waabot_ok=False)
    crossed = crmsync("status", "--check", "--warehouse", str(warehouse))
    assert crossed.returncode == 1
    assert crossed.stderr.startswith("error: alert [run] crmsync-sync run partial at "), crossed.stderr
    assert crmsync("status", "--warehouse", str(warehouse)).returncode == 0  # without --check: a report

    missing = crmsync("status", "--warehouse", str(tmp_path / "typo.duckdb"))
    assert missing.returncode == 2 and missing.stdout == ""
    assert missing.stderr.splitlines() == [f"error: no warehouse at {tmp_path / 'typo.duckdb'} "
                                           "(--warehouse or CRMSYNC_WAREHOUSE)"]


@pytest.mark.parametrize("variable, value, words", [
    ("ALERTS__URLS", '["nope://host/path"]', ["alerts.urls: entry 1 (nope://…)", "Apprise"]),
    ("ALERTS__URLZ", '["json://127.0.0.1/x"]', ["unknown setting alerts.urlz", "did you mean urls?"]),
    ("SOURCES__CHATMAN__FRESHNESS_HOURS", "-1", ["sources.chatman.freshness_hours: must be more than 0"]),
    ("ALERTS__REPEAT_HOURS", "0", ["alerts.repeat_hours: must be more than 0"]),
])
def test_alert_settings_are_checked_first(tmp_path: Path, variable: str, value: str, words: list[str]) -> None:
    warehouse = tmp_path / "w.duckdb"
    run_at(warehouse, datetime.now(UTC))
    result = crmsync("status", "--check", "--warehouse", str(warehouse), **{variable: value})
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


def test_a_bad_provider_threshold_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__WAABOT__FRESHNESS_HOURS", "soon")
    with pytest.raises(UserError, match="sources.waabot.freshness_hours: expected a number of hours"):
        alert_settings().hours_for("waabot")


def test_notify_posts_the_alerts_to_a_webhook(tmp_path: Path, receiver: tuple[str, list[dict]],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    url, received = receiver
    warehouse = tmp_path / "w.duckdb"
    run_at(warehouse, NOW, waabot_ok=False)
    monkeypatch.setenv("ALERTS__URLS", json.dumps([url]))
    settings = alert_settings()
    assert notify(check(read_status(warehouse), settings, NOW), settings, "w.duckdb")
    assert len(received) == 1
    assert received[0]["title"] == "crmsync: 1 problem in w.duckdb"
    assert received[0]["message"].startswith("[run] crmsync-sync run partial at 2026-03-01 12:00 UTC: waabot:")
    assert notify([], settings, "w.duckdb") and len(received) == 1  # nothing to say: nothing sent


def test_the_flows_send_a_condition_when_it_starts_ends_and_after_repeat_hours_a_failed_run_once(
        tmp_path: Path, receiver: tuple[str, list[dict]], monkeypatch: pytest.MonkeyPatch) -> None:
    url, received = receiver
    monkeypatch.setenv("ALERTS__URLS", json.dumps([url]))
    warehouse, now, log = tmp_path / "w.duckdb", datetime.now(UTC), logging.getLogger("test")
    run_at(warehouse, now - timedelta(hours=30))
    run_at(warehouse, now - timedelta(hours=2), waabot_ok=False)  # partial; waabot stale
    push_log(warehouse, [("vip", "chatman", "held", "mass-removal guard")])

    def sent() -> list[str]:
        alert(warehouse, log)
        return [line.split("]")[0] + "]" for line in received.pop()["message"].splitlines()] if received else []

    assert sent() == ["[run]", "[held]", "[stale]"]
    assert sent() == []  # the next run: all still true, all sent already
    run_at(warehouse, now - timedelta(hours=1), waabot_ok=False)
    assert sent() == ["[run]"]  # another failed run is another event
    run_at(warehouse, now)  # ok: waabot fresh again
    assert sent() == ["[resolved]"]
    with duckdb.connect(str(warehouse)) as con:
        con.execute("UPDATE ops.alerts_sent SET last_sent_at = last_sent_at - INTERVAL 24 HOUR")
    assert sent() == ["[held]"]  # still held a day later: said again, once
    assert sent() == []
