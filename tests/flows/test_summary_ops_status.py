"""Summary building, ops.sync_runs writing and the status queries, without Prefect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from crmsync.flows.ops import sync_run_rows, write_sync_run
from crmsync.flows.status import read_status
from crmsync.flows.summary import FAILED, OK, PARTIAL, RunSummary, StepOutcome, run_state, segment_figures, table_rows
from crmsync.pipelines.push import PushResult, TargetResult
from crmsync.pipelines.sync import ProviderResult
from crmsync.transforms.segments import SegmentResult

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def summary(run_id: str, at: datetime, waabot_ok: bool = True) -> RunSummary:
    providers = {
        "chatman": ProviderResult(rows={"contacts": 5}, read={"contacts": 9, "segments": 2}),
        "waabot": ProviderResult(rows={"contacts": 3}, read={"contacts": 3}) if waabot_ok
        else ProviderResult("failed", "waabot: the API refused the credentials (401)"),
    }
    push = PushResult(run_id="p", dry_run=False)
    push.segments = {"vip": {"chatman": TargetResult("chatman segment \"VIP\"", added=2, held=1, rejected=1)}}
    from crmsync.flows.summary import push_figures

    result = RunSummary(run_id, "crmsync-sync", at, at + timedelta(minutes=1), providers=providers,
                        transform=StepOutcome("ok"), push=StepOutcome("ok"),
                        segments=segment_figures({"vip": SegmentResult(10, 4, 1, {})}),
                        pushes=push_figures(push))
    result.state, result.reason = run_state(result)
    return result


def test_run_state_names_the_first_failure() -> None:
    assert run_state(summary("a", T0)) == (OK, None)
    state, reason = run_state(summary("a", T0, waabot_ok=False))
    assert state == PARTIAL and reason.startswith("waabot: the API refused")
    failed = summary("a", T0)
    failed.transform = StepOutcome("failed", "1 data test(s) failed")
    assert run_state(failed) == (FAILED, "transform: 1 data test(s) failed")


def test_table_rows_cover_tables_segments_and_pushes() -> None:
    rows = table_rows(summary("a", T0))
    assert {(r["step"], r["provider"], r["table / segment"]) for r in rows} == {
        ("sync", "chatman", "contacts"), ("sync", "chatman", "segments"), ("sync", "waabot", "contacts"),
        ("segment", "", "vip"), ("push", "chatman", "vip")}
    segment = next(r for r in rows if r["step"] == "segment")
    assert (segment["size"], segment["change"]) == (10, "+3 (+4 -1)")
    push = next(r for r in rows if r["step"] == "push")
    assert (push["pushed"], push["held"], push["rejected"]) == (2, 1, 1)


def test_failed_provider_still_gets_a_row() -> None:
    rows = sync_run_rows(summary("a", T0, waabot_ok=False))
    waabot = [r for r in rows if r[4] == "table" and r[5] == "waabot"]
    assert len(waabot) == 1 and waabot[0][7] == "failed" and waabot[0][6] is None


def test_status_after_two_runs_keeps_freshness_of_what_last_worked(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    write_sync_run(warehouse, summary("first", T0))
    write_sync_run(warehouse, summary("second", T0 + timedelta(hours=1), waabot_ok=False))
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT count(DISTINCT run_id) FROM ops.sync_runs").fetchone()[0] == 2
    status = read_status(warehouse)
    assert [(r["flow"], r["run_id"], r["status"]) for r in status.last_runs] == [
        ("crmsync-sync", "second", "partial")]
    fresh = {(r["provider"], r["table"]): r["fresh_at"] for r in status.freshness}
    assert fresh[("chatman", "contacts")] == T0 + timedelta(hours=1, minutes=1)
    assert fresh[("waabot", "contacts")] == T0 + timedelta(minutes=1)  # the failed run did not refresh it
    assert [r["provider"] for r in status.failing_providers] == ["waabot"]


def test_status_of_a_missing_or_empty_warehouse(tmp_path: Path) -> None:
    assert read_status(tmp_path / "none.duckdb").last_runs == []
    duckdb.connect(str(tmp_path / "empty.duckdb")).close()
    empty = read_status(tmp_path / "empty.duckdb")
    assert (empty.last_runs, empty.segments, empty.raw_rows) == ([], [], {})


def partial(run_id: str, at: datetime) -> RunSummary:
    """A run in which Chatman's journeys failed alone (its contacts loaded) and Waabot failed."""
    result = summary(run_id, at, waabot_ok=False)
    result.providers["chatman"] = ProviderResult(
        "partial", "chatman: journeys failed: GET /journeys/ answered 404", rows={"contacts": 2},
        read={"contacts": 2, "journeys": 0},
        failed_resources={"journeys": "chatman: GET /journeys/ answered 404"})
    result.state, result.reason = run_state(result)
    return result


def test_a_resource_that_failed_alone_is_reported_per_table(tmp_path: Path) -> None:
    run = partial("second", T0 + timedelta(hours=1))
    assert run.state == PARTIAL and "chatman: journeys failed: GET /journeys/ answered 404" in run.reason
    rows = {(r["provider"], r["table / segment"]): r for r in table_rows(run)}
    assert (rows[("chatman", "journeys")]["status"], rows[("chatman", "journeys")]["note"]) == (
        "failed", "chatman: GET /journeys/ answered 404")
    assert (rows[("chatman", "contacts")]["status"], rows[("chatman", "contacts")]["note"]) == ("ok", "")
    warehouse = tmp_path / "w.duckdb"
    write_sync_run(warehouse, summary("first", T0))
    write_sync_run(warehouse, run)
    status = read_status(warehouse)
    fresh = {(r["provider"], r["table"]): (r["fresh_at"], r["last_status"]) for r in status.freshness}
    assert fresh[("chatman", "contacts")] == (T0 + timedelta(hours=1, minutes=1), "ok")
    assert fresh[("chatman", "journeys")] == (None, "failed")
    assert [(r["provider"], r["tables"], r["error"]) for r in status.failing_providers] == [
        ("chatman", "journeys", "chatman: GET /journeys/ answered 404"),
        ("waabot", None, "waabot: the API refused the credentials (401)")]
    write_sync_run(warehouse, summary("third", T0 + timedelta(hours=2)))
    assert read_status(warehouse).failing_providers == []  # what works again is not failing


def test_every_provider_partial_is_a_partial_run() -> None:
    run = partial("a", T0)
    run.providers = {"chatman": run.providers["chatman"]}
    assert run_state(run)[0] == PARTIAL
