"""The flow itself, under Prefect's test harness: the whole loop against the sandbox, one
provider failing, no push after a failed data test, the overlap guard, status after a run."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from crmsync.flows import steps
from crmsync.flows.job import full_scan_flow, sync_flow
from crmsync.kernel.overlap import lock_path
from crmsync.flows.status import read_status
from crmsync.pipelines.sync import ProviderResult
from crmsync.transforms.runner import TransformResult


def run(warehouse: Path, **parameters: Any) -> tuple[str, dict[str, Any]]:
    state = sync_flow(warehouse=str(warehouse), return_state=True, **parameters)
    return state.type.value, state.result(raise_on_failure=False)


def test_whole_loop_then_status(flow_env: Path) -> None:
    prefect_state, summary = run(flow_env)
    assert prefect_state == "COMPLETED" and summary["state"] == "ok", summary["reason"]
    assert all(r["status"] == "ok" for r in summary["providers"].values())
    assert list(summary["providers"]) == ["chatman", "whautomate", "waabot", "chatrace", "dmchamp"]
    assert summary["transform"]["status"] == "ok" and summary["push"]["status"] == "ok"
    assert summary["segments"] and summary["push_totals"]["added"] > 0
    assert not lock_path(flow_env).exists()

    assert artifact_rows(summary["run_id"]) >= len(summary["segments"]) + 5

    status = read_status(flow_env)
    assert [(r["flow"], r["status"]) for r in status.last_runs] == [("crmsync-sync", "ok")]
    assert status.last_push["status"] == "ok" and status.last_push["added"] == summary["push_totals"]["added"]
    fresh = {(r["provider"], r["table"]) for r in status.freshness}
    assert ("chatman", "contacts") in fresh and ("dmchamp", "contacts") in fresh
    assert status.raw_rows["raw_chatman.contacts"] > 0
    assert {s["segment"]: s["size"] for s in status.segments} == {
        name: figures["size"] for name, figures in summary["segments"].items()}


def test_a_failing_provider_does_not_stop_the_others_and_is_not_retried(
        flow_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__WAABOT__PASSWORD", "wrong")
    calls = count_syncs(monkeypatch)
    prefect_state, summary = run(flow_env, providers=["chatman", "waabot"])
    assert prefect_state == "FAILED" and summary["state"] == "partial"
    assert summary["providers"]["chatman"]["status"] == "ok"
    assert summary["providers"]["waabot"]["status"] == "failed"
    assert "credentials" in summary["providers"]["waabot"]["error"]
    assert sorted(calls) == ["chatman", "waabot"]  # bad credentials: no retry
    assert summary["transform"]["status"] == "skipped" and summary["push"]["status"] == "skipped"
    assert [r["provider"] for r in read_status(flow_env).failing_providers] == ["waabot"]


def test_a_transient_failure_is_retried(flow_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = [ProviderResult("failed", "waabot: GET /contact failed after 8 attempts (status 503)", transient=True),
               ProviderResult(rows={"contacts": 1})]
    monkeypatch.setattr(steps, "sync_provider", lambda provider, warehouse, full_scan=False: answers.pop(0))
    _, summary = run(flow_env, providers=["waabot"], push=False)
    assert summary["providers"]["waabot"]["status"] == "ok" and answers == []


def test_a_provider_with_one_failed_resource_does_not_stop_the_transform(
        flow_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    partial = ProviderResult("partial", "waabot: groups failed: GET /contact_groups answered 404",
                             rows={"contacts": 1}, failed_resources={"groups": "GET /contact_groups answered 404"})
    monkeypatch.setattr(steps, "sync_provider", lambda provider, warehouse, full_scan=False: partial)
    _, summary = run(flow_env, providers=["waabot"], push=False)
    assert summary["providers"]["waabot"]["status"] == "partial"
    assert summary["transform"]["status"] == "ok", summary["transform"]


def test_no_push_after_a_failed_data_test(flow_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(steps, "run_transforms", lambda *args: TransformResult(
        status="failed", error="1 data test(s) failed; the first: people: test unique(person_id) failed"))
    pushed = []
    monkeypatch.setattr(steps, "push", lambda *args, **kwargs: pushed.append(1))
    prefect_state, summary = run(flow_env, providers=["waabot"])
    assert prefect_state == "FAILED" and summary["state"] == "failed"
    assert summary["transform"]["status"] == "failed" and "data test" in summary["transform"]["reason"]
    assert summary["push"] == {"status": "skipped", "reason": "transform failed"}
    assert pushed == []


def test_a_second_run_is_skipped_while_one_holds_the_warehouse(flow_env: Path) -> None:
    lock_path(flow_env).write_text(json.dumps({"pid": os.getpid(), "started_at": "2026-01-01T00:00:00+00:00",
                                               "flow": "crmsync-full-scan"}))
    prefect_state, summary = run(flow_env)
    assert prefect_state == "COMPLETED" and summary["state"] == "skipped"
    assert "crmsync-full-scan" in summary["reason"] and str(os.getpid()) in summary["reason"]
    assert summary["providers"] == {} and not flow_env.exists()  # nothing ran, nothing written
    assert lock_path(flow_env).exists()  # the other run's lock is left alone


def test_full_scan_flow_forces_the_scans_and_records_its_name(flow_env: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []
    monkeypatch.setattr(steps, "sync_provider", lambda provider, warehouse, full_scan=False: seen.append(
        full_scan) or ProviderResult(read={"contacts": 1}))
    state = full_scan_flow(warehouse=str(flow_env), providers=["chatman"], push=False, return_state=True)
    summary = state.result(raise_on_failure=False)
    assert seen == [True] and summary["flow"] == "crmsync-full-scan"
    assert [r["flow"] for r in read_status(flow_env).last_runs] == ["crmsync-full-scan"]


def count_syncs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = steps.sync_provider

    def counting(provider: str, warehouse: Path, full_scan: bool = False) -> ProviderResult:
        calls.append(provider)
        return real(provider, warehouse, full_scan=full_scan)

    monkeypatch.setattr(steps, "sync_provider", counting)
    return calls


def artifact_rows(flow_run_id: str) -> int:
    """Rows of the run's table artifact, read back from the Prefect API."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(
            key=ArtifactFilterKey(any_=["crmsync-run"]), flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))
    assert len(artifacts) == 1 and artifacts[0].type == "table"
    data = artifacts[0].data
    return len(json.loads(data) if isinstance(data, str) else data)
