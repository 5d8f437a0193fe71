"""What the docs site shows, gathered from the project folder and the warehouse (read-only).

The project (transforms/project or --transforms) says which models and segments exist, what
they read (the runner's dependency graph), their descriptions and tests; the warehouse says
what was built: columns and their comments, segment sizes over time (crm.segment_runs), the
latest push per segment and provider (ops.push_log) and provider freshness (ops.sync_runs).
A warehouse not built yet gives a site of the project alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
from crmsync.flows.status import read_status, records
from crmsync.kernel.warehouse import open_warehouse, relations
from crmsync.transforms.models import Model, discover_models, parse_select, referenced_tables
from crmsync.transforms.runner import build_order
from crmsync.transforms.segments import Segment, load_segments

SQL = Path(__file__).parent / "sql"


@dataclass
class Column:
    name: str
    type: str
    description: str


@dataclass
class ModelPage:
    model: Model
    columns: list[Column]
    tests: list[str]


@dataclass
class SegmentPage:
    segment: Segment
    reads: list[str]  # the relations its SQL reads
    sizes: list[tuple[datetime, int]]  # (run_at, size), oldest first
    pushes: dict[str, dict[str, Any]]  # provider -> the latest push's counts


@dataclass
class Site:
    warehouse: Path
    models: list[ModelPage]  # crm's, then staging's, each in build order
    segments: list[SegmentPage]
    edges: list[tuple[str, str]]  # (read, reader): raw schemas, models and `segment:<name>`
    freshness: list[dict[str, Any]] = field(default_factory=list)
    last_push: dict[str, Any] | None = None  # the latest push run (ops.push_runs)
    built: bool = False  # the warehouse exists


def sql(name: str) -> str:
    return (SQL / f"{name}.sql").read_text()


def gather(warehouse: Path, root: Path) -> Site:
    """The site of the project at `root` and the warehouse at `warehouse`."""
    models = discover_models(root)
    order = build_order(models)
    segments = load_segments(root / "segments")
    reads = {s.name: sorted(referenced_tables(parse_select(s.path, s.sql)[0])) for s in segments}
    facts = warehouse_facts(warehouse)
    columns, sizes, pushes = facts["columns"], facts["sizes"], facts["pushes"]
    # What analysts query first (crm), then staging; each in build order.
    shown = sorted(order, key=lambda name: (models[name].schema != "crm", order.index(name)))
    pages = [ModelPage(models[name], columns.get(name) or declared_columns(models[name]),
                       [test.label for test in models[name].tests]) for name in shown]
    return Site(
        warehouse=warehouse, models=pages,
        segments=[SegmentPage(s, reads[s.name], sizes.get(s.name, []), pushes.get(s.name, {})) for s in segments],
        edges=lineage(models, reads), freshness=facts["freshness"], last_push=facts["last_push"],
        built=warehouse.exists())


def declared_columns(model: Model) -> list[Column]:
    """Before a build: the columns the model's TOML names."""
    names = dict.fromkeys([*model.columns, *model.descriptions])
    return [Column(name, model.columns.get(name, ""), model.descriptions.get(name, "")) for name in names]


def lineage(models: dict[str, Model], reads: dict[str, list[str]]) -> list[tuple[str, str]]:
    """The runner's dependency graph, raw tables grouped by their schema, and the segments."""
    edges = {(source.split(".")[0], name) for name, model in models.items() for source in model.sources}
    edges |= {(upstream, name) for name, model in models.items() for upstream in model.depends_on}
    edges |= {(relation, f"segment:{segment}") for segment, relations_read in reads.items()
              for relation in relations_read if relation in models}
    return sorted(edges)


def warehouse_facts(warehouse: Path) -> dict[str, Any]:
    facts: dict[str, Any] = {"columns": {}, "sizes": {}, "pushes": {}, "freshness": [], "last_push": None}
    if not warehouse.exists():
        return facts
    # Confined, as the segment commands: reading a view a model file wrote runs its SQL.
    with open_warehouse(warehouse, read_only=True, confined=True) as con:
        existing = set(relations(con))
        facts["columns"] = built_columns(con)
        if "crm.segment_runs" in existing:
            for row in records(con, sql("segment_sizes")):
                facts["sizes"].setdefault(row["segment"], []).append((row["run_at"], row["size"]))
        if "ops.push_log" in existing:
            for row in records(con, sql("last_pushes")):
                facts["pushes"].setdefault(row["segment"], {})[row["provider"]] = row
    status = read_status(warehouse)
    facts["freshness"], facts["last_push"] = status.freshness, status.last_push
    return facts


def built_columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[Column]]:
    columns: dict[str, list[Column]] = {}
    for relation, name, kind, comment in con.execute(sql("relation_columns")).fetchall():
        columns.setdefault(relation, []).append(Column(name, kind, comment or ""))
    return columns
