"""`crmsync transform`: build the models in dependency order, test them, then the segments.

A run is all or nothing. Everything happens in one DuckDB transaction: each model is
created or replaced, its data tests run as soon as it and every relation they read are
built, and the segments are written last. The run COMMITs only when every model built and
every test passed; otherwise it ROLLBACKs, so the warehouse keeps the previous run's models,
segment members and history untouched, and the result says "failed" (push must not run).
A build error (or a test whose query cannot run) stops the run at once: DuckDB aborts the
transaction on any error. A failing test does not stop it, so one run reports every failing
test; segments are not built then.

`select` builds the chosen models and every model they depend on, transitively (a model is
never built from a stale upstream), and does not touch segments: only a full run does.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Any

import duckdb

from crmsync.kernel.comments import comment_on
from crmsync.kernel.errors import UserError
from crmsync.kernel.warehouse import open_warehouse, relations
from crmsync.transforms.checks import check_sql, columns_test, quote, relation
from crmsync.transforms.functions import PhoneNumbers, register_functions
from crmsync.transforms.models import (
    DataTest,
    Model,
    discover_models,
)
from crmsync.transforms.segments import (
    Segment,
    SegmentFailed,
    SegmentResult,
    build_segments,
    first_line,
    load_segments,
)

DEFAULT_ROOT = Path(__file__).parent / "project"  # the shipped models and segments (see models.py)
SAMPLE_ROWS = 5


@dataclass
class ModelResult:
    name: str
    rows: int
    seconds: float
    materialized: str
    empty: bool = False  # built empty from [columns]: a raw table it reads does not exist

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TestResult:
    model: str
    test: str  # e.g. "unique(provider, contact_id)"
    status: str  # "pass", "fail" (rows break it) or "error" (the test query itself failed)
    failures: int = 0
    sample: list[dict[str, Any]] = field(default_factory=list)  # up to 5 offending rows
    error: str | None = None

    @property
    def message(self) -> str:
        if self.status == "error":
            return f"{self.model}: test {self.test} could not run: {self.error}"
        rows = "\n".join(f"    {row}" for row in self.sample)
        return f"{self.model}: test {self.test} failed on {self.failures:,} row(s); sample:\n{rows}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TransformResult:
    status: str = "ok"  # "ok": committed; "failed": rolled back, the warehouse is as before
    error: str | None = None
    run_at: datetime | None = None
    seconds: float = 0.0
    models: list[ModelResult] = field(default_factory=list)
    tests: list[TestResult] = field(default_factory=list)
    segments: dict[str, SegmentResult] = field(default_factory=dict)

    @property
    def failed_tests(self) -> list[TestResult]:
        return [t for t in self.tests if t.status == "fail"]

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "error": self.error,
                "run_at": self.run_at.isoformat() if self.run_at else None, "seconds": self.seconds,
                "models": [m.as_dict() for m in self.models], "tests": [t.as_dict() for t in self.tests],
                "segments": {name: s.as_dict() for name, s in self.segments.items()}}


def tests_failed_message(failed: list[TestResult]) -> str:
    """The run's error when data tests failed: how many, and the first in full with its sample."""
    return f"{len(failed)} data test(s) failed; the first: {failed[0].message}"


class BuildFailed(Exception):
    """A model's SQL failed in DuckDB; the message names the model and its file."""


def run_transforms(warehouse: Path, root: Path = DEFAULT_ROOT, select: list[str] | None = None,
                   now: datetime | None = None) -> TransformResult:
    """Build the models of `root` (the chosen ones and their upstream with `select`), test them
    and, on a full run, the segments, in one transaction on `warehouse`.

    Declaration problems (SQL that does not parse, a cycle, an unknown --select model, a bad
    segment file) raise UserError before or instead of changing anything; a build error or a
    failing test gives a "failed" result."""
    models = discover_models(root)
    order = build_order(models, select)
    segments = None if select else load_segments(root / "segments")
    result = TransformResult(run_at=now or datetime.now(timezone.utc))
    started = time.monotonic()
    # Model and segment files are code run with crmsync's rights: confined, they cannot read
    # files or the environment into the warehouse.
    con = open_warehouse(warehouse, read_only=False, confined=True)
    try:
        phones = register_functions(con)
        build_all(con, [models[n] for n in order], segments, result, phones)
    finally:
        con.close()
    result.seconds = round(time.monotonic() - started, 3)
    return result


def build_order(models: dict[str, Model], select: list[str] | None = None) -> list[str]:
    """Relations to build, each after the models it reads; with `select`, only the chosen ones
    and their upstream. Ties are broken by name so the order is the same every run."""
    chosen = upstream(models, [resolve(models, name) for name in select]) if select else set(models)
    sorter = TopologicalSorter({name: sorted(models[name].depends_on & chosen) for name in sorted(chosen)})
    try:
        sorter.prepare()
    except CycleError as error:
        cycle = " -> ".join(error.args[1])
        raise UserError(f"models depend on each other in a cycle: {cycle}") from None
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        order.extend(ready)
        sorter.done(*ready)
    return order


def resolve(models: dict[str, Model], name: str) -> str:
    """A --select name: the relation (`crm.people`) or, when unambiguous, its table (`people`)."""
    wanted = name.lower()
    if wanted in models:
        return wanted
    matches = [m for m in models if m.split(".", 1)[1] == wanted]
    if len(matches) == 1:
        return matches[0]
    known = ", ".join(sorted(models)) or "none"
    if matches:
        raise UserError(f"--select {name}: ambiguous, say one of {', '.join(matches)}")
    raise UserError(f"--select {name}: no such model; models: {known}")


def upstream(models: dict[str, Model], names: list[str]) -> set[str]:
    chosen: set[str] = set()
    waiting = list(names)
    while waiting:
        name = waiting.pop()
        if name not in chosen:
            chosen.add(name)
            waiting.extend(models[name].depends_on)
    return chosen


def build_all(con: duckdb.DuckDBPyConnection, models: list[Model], segments: list[Segment] | None,
              result: TransformResult, phones: PhoneNumbers) -> None:
    """BEGIN, the models and their tests, the segments (None: leave them) when all passed, the
    phone numbers parsed on the way, then COMMIT or ROLLBACK."""
    existing = relations(con)
    missing = {m.name: missing_sources(m, existing) for m in models}
    tests = scheduled_tests(models)
    con.execute("BEGIN TRANSACTION")
    try:
        for position, model in enumerate(models):
            result.models.append(build_model(con, model, missing[model.name]))
            for tested, test in tests.get(position, []):
                outcome = run_test(con, tested, test)
                result.tests.append(outcome)
                if outcome.status == "error":  # DuckDB aborted the transaction: nothing more can run
                    raise BuildFailed(outcome.message)
        if result.failed_tests:
            result.status, result.error = "failed", tests_failed_message(result.failed_tests)
        elif segments is not None:
            result.segments = build_segments(con, segments, result.run_at)
        if result.status == "ok":
            phones.save(con)
    except (BuildFailed, SegmentFailed) as error:
        result.status, result.error = "failed", str(error)
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT" if result.status == "ok" else "ROLLBACK")


def scheduled_tests(models: list[Model]) -> dict[int, list[tuple[Model, DataTest]]]:
    """Each test, keyed by the position in the build after which it can run: after its model
    and after the model a relationships test reads, when that one is built in this run too
    (crm.contacts may refer to crm.people, which is built from crm.contacts)."""
    position = {m.name: i for i, m in enumerate(models)}
    schedule: dict[int, list[tuple[Model, DataTest]]] = {}
    for model in models:
        implicit = columns_test(model)
        for test in (*model.tests, *([implicit] if implicit else [])):
            ready = max(position[model.name], position.get(test.references() or "", -1))
            schedule.setdefault(ready, []).append((model, test))
    return schedule


def missing_sources(model: Model, existing: dict[str, str]) -> list[str]:
    """The source tables `model` reads that the warehouse lacks (their provider never synced,
    or no push ran yet). With [columns] the model is built empty; without, nothing says what shape it would have."""
    missing = sorted(s for s in model.sources if s not in existing)
    if missing and not model.columns:
        raise UserError(f"{model.path}: reads {', '.join(missing)}, which does not exist, and "
                        f"{model.path.with_suffix('.toml').name} declares no [columns] to build it empty")
    return missing


def build_model(con: duckdb.DuckDBPyConnection, model: Model, missing: list[str]) -> ModelResult:
    started = time.monotonic()
    target = relation(model.name)
    body = empty_select(model.columns) if missing else model.sql
    try:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(model.schema)}")
        previous = relations(con).get(model.name)
        if previous and previous != model.materialized:  # DuckDB will not replace a view by a table
            con.execute(f"DROP {previous.upper()} {target}")
        # The newline keeps a trailing `--` comment of the model from swallowing anything.
        con.execute(f"CREATE OR REPLACE {model.materialized.upper()} {target} AS\n{body}\n")
        comment_on(con, model.name, model.description, model.descriptions,
                   view=model.materialized == "view")  # replacing dropped them
        rows = con.execute(f"SELECT count(*) FROM {target}").fetchone()[0]
    except duckdb.Error as error:
        raise BuildFailed(f"{model.name} ({model.path}): {first_line(error)}") from None
    return ModelResult(model.name, rows, round(time.monotonic() - started, 3), model.materialized,
                       empty=bool(missing))


def empty_select(columns: dict[str, str]) -> str:
    """No rows, the declared columns and types."""
    return "SELECT " + ", ".join(f"CAST(NULL AS {kind}) AS {quote(name)}" for name, kind in columns.items()) \
        + " WHERE false"


def run_test(con: duckdb.DuckDBPyConnection, model: Model, test: DataTest) -> TestResult:
    """Count the rows breaking `test` and keep a few; a query that fails is an "error" result."""
    result = TestResult(model.name, test.label, "pass")
    sql = check_sql(model, test)
    try:
        result.failures = con.execute(f"SELECT count(*) FROM (\n{sql}\n)").fetchone()[0]
        if result.failures:
            cursor = con.execute(f"SELECT * FROM (\n{sql}\n) LIMIT {SAMPLE_ROWS}")
            names = [d[0] for d in cursor.description]
            result.status, result.sample = "fail", [dict(zip(names, row)) for row in cursor.fetchall()]
    except duckdb.Error as error:
        result.status, result.error = "error", first_line(error)
    return result
