"""Item 4 of issue #7: the transforms at scale, crmsync's runner against the same SQL run
directly in DuckDB.

The warehouse. Syncing a million people from the sandbox takes far longer than the transform
being measured, so the warehouse is synthesised: a small sandbox (`template_people(N)`, at
most 2,000 people) is synced once with `pipelines.sync.sync`, exactly as a user's first sync,
and every per-person raw table is then scaled up in DuckDB by benchmarks/sql/transforms_scale.sql:

- The tables keep what the sync made of them: the same `raw_<provider>` schemas, tables,
  columns, types and constraints (rows are replaced with DELETE and INSERT, never by
  re-creating a table), and the dlt bookkeeping tables stay as the sync left them.
- N contacts in total over the five providers' contact tables, split in the template's
  proportions (largest remainders, so the total is exact); copy r of a template contact gets
  a new id of the same shape, the same phone with its last four digits moved (in every
  shape the provider wrote it: +234 803..., 234803..., 0803... with a country code, so the
  same person is still the same number in every provider) and a new email (name.r<r>@host,
  case and spaces kept). Identity resolution therefore has the template's work N/template
  times over: most people distinct, the template's people present in several providers still
  joined across them, junk phones still junk, deleted contacts still deleted.
- What hangs off contacts (Chatrace opportunities and orders, Whautomate clients, DM Champ
  lookups and tags) is copied with its contacts; definitions (segments, tags, groups,
  pipelines, stages...) stay as synced.
- M events in total over the five event tables the model reads (Chatman triggered and
  campaign events, Whautomate and DM Champ messages, Chatrace opportunity comments), in the
  template's proportions; event copy j gets new ids and belongs to contact copy j mod the
  number of contact copies, so a person has about M/N events and every event type keeps its
  mix of inbound/outbound, statuses and timestamps (crm.clock does not move).

Why that is representative: every value a model reads is a value the sync wrote for some
real sandbox record (shapes of phones and emails, JSON columns, NULLs, deleted rows), and the
cardinalities the cost depends on (distinct phones and emails, contacts per person, events
per contact, rows per table) scale with N and M as they do in a bigger account. What it does
not reproduce: a big account's long tail of phone prefixes (the copies share the template's
prefixes; the phone parser's cost is per distinct number, which does scale).

The measurement: the synthesised warehouse is copied twice; on one copy the models' SQL is
run straight in DuckDB in the runner's order (CREATE OR REPLACE TABLE/VIEW as each header
says, with the model functions registered, then the segments' members as one table); on the
other, `run_transforms` builds it all (data tests, one transaction, segment history).
The runner's overhead is its time over the direct one; a second runner build on the same
warehouse (nothing changed) shows what a routine rerun costs.
"""

from __future__ import annotations

import resource
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import duckdb
from crmsync.benchmarks.figures import Figure, at_most, reported
from crmsync.kernel.environment import temporary_environment
from crmsync.kernel.warehouse import open_warehouse
from crmsync.pipelines.sync import sync
from crmsync.sandbox.link import sandbox_environment
from crmsync.sandbox.server import SandboxServer
from crmsync.sandbox.world import World
from crmsync.transforms.checks import check_sql, columns_test, quote, relation
from crmsync.transforms.functions import register_functions
from crmsync.transforms.models import discover_models
from crmsync.transforms.runner import DEFAULT_ROOT, build_order, run_transforms
from crmsync.transforms.segments import load_segments, members_sql

SCALE_SQL = Path(__file__).parent / "sql" / "transforms_scale.sql"
SEED = 7
# What measure_transforms leaves in its workdir.
TEMPLATE = "transforms_template_{people}.duckdb"
SCALED, DIRECT, RUNNER = "transforms_scaled.duckdb", "transforms_direct.duckdb", "transforms_runner.duckdb"
MAX_TEMPLATE_PEOPLE = 2_000
OVERHEAD_TARGET = 0.10
# The tables N and M are spread over: every contact and every event the model reads.
CONTACT_TABLES = ("raw_chatman.contacts", "raw_dmchamp.contacts", "raw_whautomate.contacts",
                  "raw_waabot.contacts", "raw_chatrace.contacts")
EVENT_TABLES = ("raw_chatman.triggered_events", "raw_chatman.campaign_events", "raw_whautomate.messages",
                "raw_dmchamp.messages", "raw_chatrace.opportunity_comments")

T = TypeVar("T")


def measure_transforms(contacts: int, events: int, workdir: Path) -> list[Figure]:
    """Build the model and segments on a synthesised warehouse of `contacts` contacts and
    `events` events, with the runner and directly; the figures of item 4."""
    workdir.mkdir(parents=True, exist_ok=True)
    people = template_people(contacts)
    template = workdir / TEMPLATE.format(people=people)
    if not template.exists():  # a rerun in the same workdir skips the sync
        sync_template(people, template)
    scaled = workdir / SCALED
    synth_seconds, _ = timed(lambda: synthesise(template, scaled, contacts, events))
    direct_copy, runner_copy = workdir / DIRECT, workdir / RUNNER
    shutil.copyfile(scaled, direct_copy)
    shutil.copyfile(scaled, runner_copy)

    reset_peak_rss()
    direct_total, test_seconds = timed(lambda: build_directly(direct_copy))
    direct_seconds = direct_total - test_seconds
    direct_rss = peak_rss_mb()
    reset_peak_rss()
    runner_seconds, result = timed(lambda: run_transforms(runner_copy))
    runner_rss = peak_rss_mb()
    if result.status != "ok":
        raise RuntimeError(f"the transform run on the synthesised warehouse failed: {result.error}")
    rerun_seconds, rerun = timed(lambda: run_transforms(runner_copy))
    if rerun.status != "ok":
        raise RuntimeError(f"the second transform run failed: {rerun.error}")

    size = f"{contacts:,} contacts, {events:,} events"
    return [
        reported("transforms.seconds", runner_seconds, "s", f"crmsync transform (runner), {size}"),
        reported("transforms.direct_seconds", direct_seconds, "s",
                 "the same models and segments as plain DuckDB statements, same process"),
        at_most("transforms.runner_overhead", runner_seconds / direct_seconds - 1, "x", OVERHEAD_TARGET,
                "runner / direct - 1: data tests, one transaction, segment history"),
        reported("transforms.direct_test_seconds", test_seconds, "s",
                 "the data tests' queries run directly: the part of the overhead that is the tests"),
        reported("transforms.orchestration_overhead", runner_seconds / direct_total - 1, "x",
                 "runner / (direct models + direct tests) - 1: the runner itself"),
        reported("transforms.rerun_seconds", rerun_seconds, "s", "the runner again, nothing changed: every phone answered from ops.phone_e164"),
        reported("transforms.peak_rss_mb", runner_rss, "MB", f"runner build; direct build {direct_rss:.0f} MB"),
        reported("transforms.synthesis_seconds", synth_seconds, "s",
                 f"scaling a {people:,}-person sandbox sync up to {size}"),
    ]


def template_people(contacts: int) -> int:
    """The sandbox synced as the template: a twentieth of the contacts asked, 100 to 2,000
    people (each person is 2 to 3 contacts); enough variety, a sync of a minute at most."""
    return max(100, min(MAX_TEMPLATE_PEOPLE, contacts // 20))


def sync_template(people: int, warehouse: Path) -> None:
    """Sync every provider from a sandbox of `people` people into `warehouse`."""
    pipelines = warehouse.parent / f".{warehouse.name}.pipelines"
    with SandboxServer(World(seed=SEED, contacts=people)) as sandbox, \
            temporary_environment({**sandbox_environment(sandbox.url), "CRMSYNC_PIPELINES_DIR": str(pipelines)}):
        results = sync(None, warehouse)
    failed = {provider: r.error for provider, r in results.items() if r.status != "ok"}
    if failed:
        warehouse.unlink(missing_ok=True)
        raise RuntimeError(f"the template sync failed: {failed}")


def synthesise(template: Path, warehouse: Path, contacts: int, events: int) -> dict[str, int]:
    """`warehouse`: `template` with `contacts` contacts and `events` events (see the module
    docstring); the rows of each scaled table, as counted there."""
    shutil.copyfile(template, warehouse)
    with open_warehouse(warehouse, read_only=False) as con:
        con.execute(f"ATTACH {literal_path(template)} AS template (READ_ONLY)")
        counts = table_rows(con, (*CONTACT_TABLES, *EVENT_TABLES), database="template")
        plan = spread(contacts, {t: counts[t] for t in CONTACT_TABLES}) | spread(events, {t: counts[t] for t in EVENT_TABLES})
        replicas = {t: -(-rows // max(counts[t], 1)) for t, rows in plan.items()}
        con.execute('CREATE TEMP TABLE _plan ("table" VARCHAR, replicas BIGINT, "rows" BIGINT, template_rows BIGINT)')
        con.executemany("INSERT INTO _plan VALUES (?, ?, ?, ?)",
                        [[t, replicas[t], plan[t], counts[t]] for t in plan]
                        + [["contacts", whole_copies(contacts, sum(counts[t] for t in CONTACT_TABLES)), contacts, 0]])
        con.execute(SCALE_SQL.read_text())
        con.execute("DETACH template")
        return table_rows(con, (*CONTACT_TABLES, *EVENT_TABLES))


def whole_copies(contacts: int, template_contacts: int) -> int:
    """How many copies of the template every contact table holds in full (at least the
    template itself): events and what hangs off contacts only belong with those, so none
    points at a contact the trimmed last copy left out."""
    return max(1, contacts // max(template_contacts, 1))


def spread(total: int, weights: dict[str, int]) -> dict[str, int]:
    """`total` split in proportion to `weights`, by largest remainders (the parts add up to it)."""
    whole = sum(weights.values())
    if not whole:
        raise RuntimeError(f"the template has none of {', '.join(weights)}: nothing to scale")
    exact = {name: total * weight / whole for name, weight in weights.items()}
    parts = {name: int(share) for name, share in exact.items()}
    by_remainder = sorted(weights, key=lambda name: exact[name] - parts[name], reverse=True)
    for name in by_remainder[: total - sum(parts.values())]:
        parts[name] += 1
    return parts


def table_rows(con: duckdb.DuckDBPyConnection, tables: tuple[str, ...], database: str | None = None) -> dict[str, int]:
    prefix = f"{quote(database)}." if database else ""
    return {t: con.execute(f"SELECT count(*) FROM {prefix}{relation(t)}").fetchone()[0] for t in tables}


def build_directly(warehouse: Path) -> float:
    """The runner's SQL without the runner: each model as its header says, in the runner's
    order, then every segment's members as one table. Then, timed apart, the query of every
    data test the runner would run; its seconds."""
    models = discover_models(DEFAULT_ROOT)
    segments = load_segments(DEFAULT_ROOT / "segments")
    with open_warehouse(warehouse, read_only=False) as con:
        register_functions(con)
        for name in build_order(models):
            model = models[name]
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(model.schema)}")
            con.execute(f"CREATE OR REPLACE {model.materialized.upper()} {relation(name)} AS\n{model.sql}\n")
        con.execute(f"CREATE OR REPLACE TABLE crm.segment_members AS {members_sql(segments)}")
        started = time.perf_counter()
        for model in models.values():
            implicit = columns_test(model)
            for test in (*model.tests, *([implicit] if implicit else [])):
                con.execute(f"SELECT count(*) FROM (\n{check_sql(model, test)}\n)").fetchall()
        return time.perf_counter() - started


def literal_path(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def timed(work: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    value = work()
    return time.perf_counter() - started, value


def reset_peak_rss() -> None:
    """Start the peak (VmHWM) over from now, so each build's peak is its own (Linux)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass  # the peak then covers the process so far: still an upper bound


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: the peak so far

