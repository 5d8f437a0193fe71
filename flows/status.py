"""`crmsync status`: what the warehouse says about the last runs, read-only.

Everything comes from tables the runs write (ops.sync_runs, ops.confirmed, ops.push_runs,
ops.push_log, crm.segment_runs), so status works while the schedule runs elsewhere and needs no Prefect
server. Tables not made yet give empty sections, not errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from crmsync.flows.ops import sql
from crmsync.kernel.errors import UserError
from crmsync.kernel.warehouse import open_warehouse, relations


@dataclass
class Status:
    warehouse: str
    last_runs: list[dict[str, Any]] = field(default_factory=list)  # per flow
    last_push: dict[str, Any] | None = None
    freshness: list[dict[str, Any]] = field(default_factory=list)  # per provider table
    staleness: list[dict[str, Any]] = field(default_factory=list)  # per budgeted provider resource (ops.confirmed)
    failing_providers: list[dict[str, Any]] = field(default_factory=list)  # provider, tables, error
    raw_rows: dict[str, int] = field(default_factory=dict)  # "raw_x.table" -> live rows now
    segments: list[dict[str, Any]] = field(default_factory=list)
    held_rejected: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def records(con: duckdb.DuckDBPyConnection, query: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    cursor = con.execute(query, params or {})
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def raw_row_counts(con: duckdb.DuckDBPyConnection, tables: set[str]) -> dict[str, int]:
    """Rows per raw table now, not counting rows the provider deleted."""
    counts = {}
    for name in sorted(t for t in tables if t.startswith("raw_") and ".__dlt" not in t and "._dlt" not in t):
        schema, table = name.split(".", 1)
        columns = {c for (c,) in con.execute("SELECT column_name FROM duckdb_columns() WHERE schema_name = ? "
                                              "AND table_name = ?", [schema, table]).fetchall()}
        where = " WHERE deleted_at IS NULL" if "deleted_at" in columns else ""
        counts[name] = con.execute(f'SELECT count(*) FROM "{schema}"."{table}"{where}').fetchone()[0]
    return counts


def read_status(warehouse: Path) -> Status:
    """What the warehouse says; a path with no warehouse is a UserError (a misspelt path
    must not read as "no runs yet")."""
    if not warehouse.is_file():
        raise UserError(f"no warehouse at {warehouse} (--warehouse or CRMSYNC_WAREHOUSE)")
    status = Status(str(warehouse))
    with open_warehouse(warehouse, read_only=True) as con:
        tables = set(relations(con))
        if "ops.sync_runs" in tables:
            status.last_runs = records(con, sql("status_last_runs"))
            status.freshness = records(con, sql("status_freshness"))
            status.failing_providers = records(con, sql("status_provider_errors"))
        if "ops.push_runs" in tables:
            last = records(con, sql("status_last_push"))
            status.last_push = last[0] if last else None
        if "ops.push_log" in tables and "ops.push_runs" in tables:
            status.held_rejected = records(con, sql("status_held_rejected"))
        if "crm.segment_runs" in tables:
            status.segments = records(con, sql("status_segments"))
        if "ops.confirmed" in tables:
            status.staleness = records(con, sql("status_staleness"))
        status.raw_rows = raw_row_counts(con, tables)
    return status
