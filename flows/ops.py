"""ops.sync_runs: every run's figures in the warehouse, so freshness is a SQL question."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crmsync.flows.summary import RunSummary
from crmsync.kernel.warehouse import connect

SQL = Path(__file__).parent / "sql"


def sql(name: str) -> str:
    return (SQL / f"{name}.sql").read_text()


def sync_run_rows(summary: RunSummary) -> list[tuple[Any, ...]]:
    """The summary as ops.sync_runs rows (column order of sync_runs_insert.sql)."""
    head = (summary.run_id, summary.flow, summary.started_at, summary.finished_at)

    def row(kind: str, provider: str | None, name: str | None, status: str, error: str | None = None,
            loaded: int | None = None, deleted: int | None = None, size: int | None = None,
            entered: int | None = None, left: int | None = None,
            push: dict[str, int] | None = None) -> tuple[Any, ...]:
        counts = push or {}
        return (*head, kind, provider, name, status, error, loaded, deleted, size, entered, left,
                counts.get("added"), counts.get("removed"), counts.get("rejected"), counts.get("held"))

    totals = summary.push_totals() if summary.pushes else None
    rows = [row("run", None, None, summary.state, summary.reason, push=totals)]
    for provider, result in summary.providers.items():
        # Every table read counts as fresh, changed or not, unless its resource failed; a
        # failed provider with nothing read still gets a row, so its failure shows.
        for table in result.tables() or [None]:
            status, error = result.table_status(table) if table else (result.status, result.error)
            rows.append(row("table", provider, table, status, error,
                            result.rows.get(table, 0) if table else 0, result.deleted.get(table, 0) if table else 0))
    for segment, figures in summary.segments.items():
        rows.append(row("segment", None, segment, "ok", size=figures["size"], entered=figures["entered"],
                        left=figures["left"]))
    for segment, providers in summary.pushes.items():
        for provider, counts in providers.items():
            rows.append(row("push", provider, segment, "failed" if counts.get("failed") else "ok", push=counts))
    return rows


def write_sync_run(warehouse: Path, summary: RunSummary) -> int:
    """Append the run's rows in one transaction; returns how many."""
    rows = sync_run_rows(summary)
    with connect(warehouse) as con:
        con.execute(sql("sync_runs_table"))
        con.execute("BEGIN")
        con.executemany(sql("sync_runs_insert"), rows)
        con.execute("COMMIT")
    return len(rows)
