"""What one run did, in one structure: the artifact table, ops.sync_runs, `--json` and the
printed summary all come from it, so they cannot disagree."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from crmsync.flows.retry import named
from crmsync.pipelines.sync import ProviderResult

# A run's state: ok; partial (a provider or a resource failed, the rest went on); failed
# (transform or push failed, or nothing synced); skipped (another run held the warehouse).
OK, PARTIAL, FAILED, SKIPPED = "ok", "partial", "failed", "skipped"


@dataclass
class StepOutcome:
    status: str  # ok | failed | skipped
    reason: str | None = None


@dataclass
class RunSummary:
    run_id: str
    flow: str
    started_at: datetime
    finished_at: datetime | None = None
    state: str = OK
    reason: str | None = None  # why it was skipped, or what failed first
    providers: dict[str, ProviderResult] = field(default_factory=dict)
    transform: StepOutcome = field(default_factory=lambda: StepOutcome("skipped", "not reached"))
    push: StepOutcome = field(default_factory=lambda: StepOutcome("skipped", "not reached"))
    segments: dict[str, dict[str, int]] = field(default_factory=dict)  # size, entered, left, change
    pushes: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)  # segment -> provider -> counts

    def push_totals(self) -> dict[str, int]:
        totals = {"added": 0, "removed": 0, "rejected": 0, "held": 0}
        for providers in self.pushes.values():
            for counts in providers.values():
                for key in totals:
                    totals[key] += counts.get(key, 0)
        return totals

    def as_dict(self) -> dict[str, Any]:
        document = asdict(self)
        document["providers"] = {p: r.as_dict() for p, r in self.providers.items()}
        document["push_totals"] = self.push_totals()
        return document


def segment_figures(segments: dict[str, Any]) -> dict[str, dict[str, int]]:
    """transform's SegmentResults as plain numbers; change is the net movement this run."""
    return {name: {"size": s.size, "entered": s.entered, "left": s.left, "change": s.entered - s.left}
            for name, s in segments.items()}


def push_figures(push_result: Any) -> dict[str, dict[str, dict[str, int]]]:
    """push's TargetResults as plain numbers per segment and provider."""
    return {segment: {provider: {**target.counts(), "failed": int(target.status != "ok")}
                      for provider, target in targets.items()}
            for segment, targets in push_result.segments.items()}


def run_state(summary: RunSummary) -> tuple[str, str | None]:
    """The run's overall state and its first reason, from its steps."""
    not_ok = {p: r for p, r in summary.providers.items() if r.status != "ok"}
    if summary.transform.status == "failed":
        return FAILED, f"transform: {summary.transform.reason}"
    if summary.push.status == "failed":
        return FAILED, f"push: {summary.push.reason}"
    if not_ok and all(r.status == "failed" for r in summary.providers.values()):
        return FAILED, "every provider failed"
    if not_ok:
        return PARTIAL, "; ".join(named(p, r.error) for p, r in not_ok.items())
    return OK, None


def table_rows(summary: RunSummary) -> list[dict[str, Any]]:
    """The artifact's rows: one per provider table (a table whose resource failed says why),
    segment and push target, same columns."""
    rows: list[dict[str, Any]] = []
    for provider, result in summary.providers.items():
        for table in result.tables() or ["-"]:
            status, error = result.table_status(table) if table != "-" else (result.status, result.error)
            rows.append(_row("sync", provider, table, status, loaded=result.rows.get(table, 0),
                             deleted=result.deleted.get(table, 0), note=error or ""))
    for segment, figures in summary.segments.items():
        rows.append(_row("segment", "", segment, "ok", size=figures["size"],
                         change=f"{figures['change']:+d} (+{figures['entered']} -{figures['left']})"))
    for segment, providers in summary.pushes.items():
        for provider, counts in providers.items():
            rows.append(_row("push", provider, segment, "failed" if counts.get("failed") else "ok",
                             pushed=counts["added"] + counts["removed"], held=counts["held"],
                             rejected=counts["rejected"]))
    for step in ("transform", "push"):
        outcome: StepOutcome = getattr(summary, step)
        if outcome.status != "ok":
            rows.append(_row(step, "", "", outcome.status, note=outcome.reason or ""))
    return rows


def _row(kind: str, provider: str, name: str, status: str, **figures: Any) -> dict[str, Any]:
    row = {"step": kind, "provider": provider, "table / segment": name, "status": status,
           "loaded": "", "deleted": "", "size": "", "change": "", "pushed": "", "held": "", "rejected": "",
           "note": ""}
    row.update(figures)
    return row


def artifact_markdown(summary: RunSummary) -> str:
    """The artifact's description: the verdict a person reads first."""
    totals = summary.push_totals()
    return (f"**{summary.flow}** run `{summary.run_id}`: **{summary.state}**"
            + (f" — {summary.reason}" if summary.reason else "")
            + f". Pushed {totals['added']} adds, {totals['removed']} removals; "
              f"held {totals['held']}, rejected {totals['rejected']}.")
