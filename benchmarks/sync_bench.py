"""Items 1-3 of issue #7: a full sync against the floor and the declarative source, the same
sync under a sandbox rate limit, and an incremental rerun after 1% churn."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import dlt
from crmsync.benchmarks import declarative, floor
from crmsync.benchmarks.endpoints import PAGED_APIS, RERUN_APIS, PagedApi
from crmsync.benchmarks.figures import Figure, at_least, at_most, reported
from crmsync.benchmarks.sandbox_process import SandboxProcess
from crmsync.benchmarks.schedule import budget_env, schedule_figures
from crmsync.kernel.environment import temporary_environment
from crmsync.kernel.warehouse import open_warehouse, tables_of
from crmsync.pipelines.sync import ProviderResult, pipelines_dir, sync_provider
from crmsync.sandbox.link import sandbox_environment
from crmsync.sources.common.config import provider_settings
from dlt.pipeline import trace as dlt_trace

Progress = Callable[[str], None]

# crmsync against the floor: cursor pages come one after another for every client, so only
# crmsync's own overhead shows; numbered pages can be fetched concurrently, the floor cannot.
FLOOR_TARGETS = {"chatman": 1.3, "whautomate": 1.0}
DECLARATIVE_TARGET = 10.0
RATE_BOUND_TARGET = 1.1
CLIENT_CPU_TARGETS = {"chatman": 2.0}  # crmsync's client CPU / the plain loop's (issue #17)
INCREMENTAL_TARGETS = {"chatman": 0.05}
CHURN = {"update": 0.01, "seed": 1}


@dataclass
class Measured:
    seconds: float
    cpu: float  # CPU seconds of this process (every thread): the client's own work
    sandbox_cpu: float  # CPU seconds of the sandbox process meanwhile: the API's work
    routes: Counter  # requests the sandbox answered, by "METHOD /template"
    phases: dict[str, float]  # dlt's steps (extract, normalize, load), seconds; {} for the floor;
    # crmsync's sync also "setup" (before the extract) and "after" (after the load)
    result: ProviderResult | None = None  # crmsync's own account of the run
    phase_cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds of each of dlt's steps

    @property
    def requests(self) -> int:
        return sum(self.routes.values())

    def costs(self) -> str:
        """Where the wall time went: on a loaded machine, CPU seconds say more than wall."""
        steps = "".join(f", {step} {seconds:.1f} s" for step, seconds in self.phases.items())
        steps_cpu = "".join(f", {step} {seconds:.2f} s" for step, seconds in self.phase_cpu.items())
        return (f"{self.seconds:.1f} s wall{steps}, {self.cpu:.1f} s CPU{steps_cpu}, "
                f"sandbox {self.sandbox_cpu:.1f} s CPU")

    def step_cpu(self, *steps: str) -> float:
        return sum(self.phase_cpu.get(step, 0.0) for step in steps)


def dlt_phases(pipeline: dlt.Pipeline) -> dict[str, float]:
    """Seconds of each step of the pipeline's last run, from its trace."""
    trace = pipeline.last_trace
    return {step.step: round((step.finished_at - step.started_at).total_seconds(), 1)
            for step in trace.steps if step.step != "run"} if trace else {}


class _StepCpu:
    """A dlt tracking module (dlt.pipeline.trace.TRACKING_MODULES) adding up this process's CPU
    (every thread) in each step: dlt runs extract, normalize and load one after another, all in
    this process (normalize with its one default worker, load on threads)."""

    def __init__(self, spent: dict[str, float]) -> None:
        self.spent = spent
        self._started: dict[str, float] = {}

    def on_start_trace(self, *_: Any) -> None:
        pass

    def on_start_trace_step(self, trace: Any, step: str, pipeline: Any) -> None:
        self._started[step] = time.process_time()

    def on_end_trace_step(self, trace: Any, step: Any, *_: Any) -> None:
        if step.step != "run" and step.step in self._started:  # "run" wraps the other three
            spent = time.process_time() - self._started.pop(step.step)
            self.spent[step.step] = round(self.spent.get(step.step, 0.0) + spent, 2)

    def on_end_trace(self, *_: Any) -> None:
        pass


@contextmanager
def step_cpu() -> Iterator[dict[str, float]]:
    """CPU seconds of this process in each dlt step run inside the block, by step."""
    spent: dict[str, float] = {}
    tracker = _StepCpu(spent)
    dlt_trace.TRACKING_MODULES.append(tracker)
    try:
        yield spent
    finally:
        dlt_trace.TRACKING_MODULES.remove(tracker)


@contextmanager
def measuring(sandbox: SandboxProcess) -> Iterator[list[float]]:
    """Wall, own CPU and sandbox CPU of the block, as [wall, cpu, sandbox_cpu] once it ends."""
    sandbox.reset_stats()
    spent: list[float] = []
    wall, cpu, sandbox_cpu = time.perf_counter(), time.process_time(), sandbox.cpu_seconds()
    yield spent
    spent += [time.perf_counter() - wall, time.process_time() - cpu, sandbox.cpu_seconds() - sandbox_cpu]


def crmsync_sync(sandbox: SandboxProcess, provider: str, warehouse: Path,
                 env: dict[str, str] | None = None) -> Measured:
    """`pipelines.sync.sync_provider` into `warehouse`, timed, with the requests it made."""
    with temporary_environment({**sandbox_environment(sandbox.url), **(env or {})}):
        with measuring(sandbox) as spent, step_cpu() as steps:
            began = datetime.now(timezone.utc)
            result = sync_provider(provider, warehouse)
    if result.status != "ok":
        raise RuntimeError(f"crmsync's {provider} sync failed: {result.error}")
    # The pipeline as sync_provider left it, to read its trace (pipelines/sync.py names it).
    pipeline = dlt.pipeline(pipeline_name=f"crmsync_{provider}", pipelines_dir=str(pipelines_dir(warehouse)))
    return Measured(*spent, sandbox.requests(provider), sync_phases(pipeline, began, spent[0]), result, steps)


def sync_phases(pipeline: dlt.Pipeline, began: datetime, seconds: float) -> dict[str, float]:
    """dlt's steps, and crmsync's sync before the extract ("setup": settings, the pipeline, its
    state checked against the warehouse's) and after the load ("after": the after-steps and
    DuckDB's checkpoint as the warehouse closes), of a sync that began at `began` and took
    `seconds`."""
    steps = {step.step: step for step in pipeline.last_trace.steps} if pipeline.last_trace else {}
    if "extract" not in steps or "load" not in steps:
        return dlt_phases(pipeline)
    setup = (steps["extract"].started_at - began).total_seconds()
    after = seconds - (steps["load"].finished_at - began).total_seconds()
    return {"setup": round(setup, 1), **dlt_phases(pipeline), "after": round(after, 1)}


def floor_sync(sandbox: SandboxProcess, provider: str) -> Measured:
    return _floor(sandbox, PAGED_APIS[provider](_page_size(sandbox, provider)))


def _floor(sandbox: SandboxProcess, api: PagedApi) -> Measured:
    """The plain loop (benchmarks/floor.py) over `api`'s endpoints, timed."""
    with measuring(sandbox) as spent:
        floor.fetch_all(api, sandbox.url)
    return Measured(*spent, sandbox.requests(api.provider), {})


def declarative_sync(sandbox: SandboxProcess, provider: str, workdir: Path) -> Measured:
    api = PAGED_APIS[provider](_page_size(sandbox, provider))
    with measuring(sandbox) as spent:
        pipeline = declarative.load(api, sandbox.url, workdir)
    return Measured(*spent, sandbox.requests(provider), dlt_phases(pipeline))


def _routes_compared(crmsync: Measured, base: Measured) -> str:
    """Whether the floor asked for the routes crmsync did."""
    return "same routes" if set(crmsync.routes) == set(base.routes) else (
        f"routes differ: crmsync only {sorted(set(crmsync.routes) - set(base.routes))}, "
        f"floor only {sorted(set(base.routes) - set(crmsync.routes))}")


def _page_size(sandbox: SandboxProcess, provider: str) -> int:
    """The page size crmsync's settings give, so the floor reads the same pages."""
    with temporary_environment(sandbox_environment(sandbox.url)):
        return int(provider_settings(provider)["page_size"])


def full_sync_figures(provider: str, crmsync: Measured, base: Measured) -> list[Figure]:
    """Item 1, crmsync against the floor, both at the sandbox's full size."""
    name = f"sync.{provider}"
    same = _routes_compared(crmsync, base)
    return [
        reported(f"{name}.crmsync_seconds", crmsync.seconds, "s",
                 f"crmsync.pipelines.sync.sync_provider into a fresh warehouse, {sum(crmsync.result.rows.values())} rows; "
                 f"{crmsync.costs()}"),
        reported(f"{name}.floor_seconds", base.seconds, "s",
                 f"sequential httpx loop, same pages, JSON parsed; {base.costs()}"),
        reported(f"{name}.crmsync_requests", crmsync.requests, "calls", "from /_sandbox/stats"),
        reported(f"{name}.floor_requests", base.requests, "calls", f"from /_sandbox/stats; {same}"),
        at_most(f"{name}.floor_ratio", crmsync.seconds / base.seconds, "x", FLOOR_TARGETS[provider],
                "crmsync wall / floor wall"),
        reported(f"{name}.cpu_ratio", (crmsync.cpu + crmsync.sandbox_cpu) / (base.cpu + base.sandbox_cpu), "x",
                 "(client + sandbox CPU) of crmsync / of the floor: the wall ratio on an idle machine "
                 "if nothing overlapped"),
        *_client_cpu_ratios(name, provider, crmsync, base),
    ]


def _client_cpu_ratios(name: str, provider: str, crmsync: Measured, base: Measured) -> list[Figure]:
    """crmsync's own CPU (this process) against the plain loop's over the same pages (httpx and
    JSON parsing alone), whole and split: dlt's extract (the requests, JSON, shaping, cursors
    and scans, and the parquet files dlt writes) and the destination's work (normalize and load:
    the files into DuckDB), each / the plain loop's CPU; the rest is the run's setup and what
    follows the load (dictionary, deletions, quarantine)."""
    floor_cpu = max(base.cpu, 0.001)
    extract, destination = crmsync.step_cpu("extract"), crmsync.step_cpu("normalize", "load")
    rest = crmsync.cpu - extract - destination
    note = (f"client CPU {crmsync.cpu:.1f} s / plain httpx loop {base.cpu:.1f} s: extract {extract:.2f} s, "
            f"normalize+load {destination:.2f} s, setup and after the load {rest:.2f} s; "
            f"dlt steps (wall): {', '.join(f'{k} {v} s' for k, v in crmsync.phases.items())}")
    ratio = crmsync.cpu / floor_cpu
    whole = (at_most(f"{name}.client_cpu_ratio", ratio, "x", CLIENT_CPU_TARGETS[provider], note)
             if provider in CLIENT_CPU_TARGETS else reported(f"{name}.client_cpu_ratio", ratio, "x", note))
    return [
        whole,
        reported(f"{name}.extract_cpu_ratio", extract / floor_cpu, "x",
                 f"dlt's extract step's CPU {extract:.2f} s (the requests and JSON the plain loop does "
                 f"too, then shaping, cursors, scans and dlt's parquet files) / plain loop {base.cpu:.2f} s"),
        reported(f"{name}.destination_cpu_ratio", destination / floor_cpu, "x",
                 f"dlt's normalize and load steps' CPU {destination:.2f} s (the parquet files into DuckDB: "
                 f"copy into staging, merge) / plain loop {base.cpu:.2f} s; the plain loop loads nothing"),
    ]


def declarative_figures(provider: str, crmsync: Measured, slow: Measured, contacts: int) -> list[Figure]:
    """Item 1, the declarative source against crmsync, both on the same sandbox."""
    name = f"sync.{provider}"
    where = f"both at {contacts:,} contacts"
    return [
        reported(f"{name}.declarative_seconds", slow.seconds, "s",
                 f"dlt rest_api_source, merge, default file format; {slow.requests} requests; {where}; "
                 f"{slow.costs()}"),
        at_least(f"{name}.declarative_ratio", slow.seconds / crmsync.seconds, "x", DECLARATIVE_TARGET,
                 f"declarative wall / crmsync wall ({crmsync.seconds:.1f} s); {where}"),
        reported(f"{name}.declarative_vs_api_cpu", slow.seconds / crmsync.sandbox_cpu, "x",
                 f"declarative wall / the sandbox's CPU answering crmsync's requests "
                 f"({crmsync.sandbox_cpu:.1f} s): no client finishes before the API has answered, so "
                 f"this bounds what declarative_ratio can reach on this machine; {where}"),
    ]


def rate_limited_figures(sandbox: SandboxProcess, provider: str, unthrottled: Measured, workdir: Path,
                         bound_min_s: float) -> list[Figure]:
    """Item 2: the rate is set so the bound is at least `bound_min_s` and twice the unthrottled
    sync (so the rate, not the sandbox, is what the run waits for); crmsync is told the same
    rate, as a user would configure their account's."""
    bound_s = max(bound_min_s, 2 * unthrottled.seconds)
    rate = round(unthrottled.requests / bound_s, 3)
    sandbox.set_faults(rate_limit=rate)
    try:
        env = {f"SOURCES__{provider.upper()}__REQUESTS_PER_SECOND": str(rate)}
        limited = crmsync_sync(sandbox, provider, workdir / f"{provider}-rate.duckdb", env)
        statuses = sandbox.statuses(provider)
    finally:
        sandbox.set_faults(rate_limit=None)
    answered = sum(n for status, n in statuses.items() if status.startswith("2"))
    bound = answered / rate
    missing = _missing_rows(sandbox, provider, workdir / f"{provider}-rate.duckdb")
    name = f"sync.{provider}.rate_limited"
    # The extract holds every request (it starts just before the first, ends as the last page
    # is converted); what follows the last request waits for no rate.
    requests_part = limited.phases["setup"] + limited.phases["extract"]
    after_part = limited.seconds - requests_part
    return [
        at_most(f"{name}.bound_ratio", limited.seconds / bound, "x", RATE_BOUND_TARGET,
                f"wall {limited.seconds:.1f} s / ({answered} requests / {rate} per s = {bound:.1f} s); "
                f"up to the last request {requests_part:.1f} s ({requests_part / bound:.3f} of the bound), "
                f"after it {after_part:.1f} s ({after_part / bound:.3f}: normalize, load, after-steps); "
                f"{statuses.get('429', 0)} answered 429; {sandbox.contacts:,} contacts; {limited.costs()}"),
        at_most(f"{name}.rows_missing", missing, "rows", 0,
                f"truth counts minus warehouse rows, every table; status {limited.result.status}"),
    ]


def _missing_rows(sandbox: SandboxProcess, provider: str, warehouse: Path) -> int:
    truth = sandbox.truth_counts()[provider]
    with open_warehouse(warehouse, read_only=True) as con:
        tables = tables_of(con, f"raw_{provider}")
        loaded = {t: con.execute(f'SELECT count(*) FROM "raw_{provider}"."{t}"').fetchone()[0]
                  for t in truth if t in tables}
    return sum(abs(n - loaded.get(table, 0)) for table, n in truth.items())


def incremental_figures(sandbox: SandboxProcess, providers: list[str], reported_providers: list[str],
                        workdir: Path, progress: Progress) -> Iterator[Figure]:
    """Item 3: a full sync of `providers` into one warehouse, in order, 1% of records updated,
    the same syncs again (a budgeted provider within its budget, benchmarks/schedule.py); figures
    for each of `reported_providers` as soon as its rerun is done."""
    workdir.mkdir(parents=True, exist_ok=True)
    warehouse = workdir / "incremental.duckdb"
    at = f"at {sandbox.contacts:,} contacts"
    since = datetime.now(timezone.utc)  # a client's last run began here: its reruns read from here
    full: dict[str, Measured] = {}
    for provider in providers:
        progress(f"incremental: full sync of {provider} {at}")
        full[provider] = crmsync_sync(sandbox, provider, warehouse)
    sandbox.churn(**CHURN)
    for provider in providers:
        progress(f"incremental: rerun of {provider} after churn {at}")
        rerun = crmsync_sync(sandbox, provider, warehouse, budget_env(provider, sandbox.contacts))
        if provider not in reported_providers:
            continue
        yield from schedule_figures(provider, rerun.requests, rerun.seconds, sandbox.contacts, warehouse,
                                    rerun.result.rows if rerun.result else {})
        ratio = rerun.seconds / full[provider].seconds
        routes = ", ".join(f"{route} {n}" for route, n in rerun.routes.most_common(3))
        note = (f"rerun {rerun.requests} requests ({routes}), {rerun.costs()} / full {full[provider].requests} "
                f"requests, {full[provider].costs()}; 1% of records updated; {at}")
        name = f"incremental.{provider}"
        yield (at_most(f"{name}.rerun_ratio", ratio, "x", INCREMENTAL_TARGETS[provider], note)
               if provider in INCREMENTAL_TARGETS else reported(f"{name}.rerun_ratio", ratio, "x", note))
        if provider in RERUN_APIS:
            yield rerun_floor_figure(sandbox, provider, since, full[provider], rerun)


def rerun_floor_figure(sandbox: SandboxProcess, provider: str, since: datetime, full: Measured,
                       rerun: Measured) -> Figure:
    """The floor of a rerun: a plain sequential httpx loop making the requests any client
    needs to see every change since `since` (benchmarks/endpoints.py), ÷ the full sync. Past
    the rerun's target, the API itself puts the target out of any client's reach."""
    base = _floor(sandbox, RERUN_APIS[provider](_page_size(sandbox, provider), since))
    ratio, target = base.seconds / full.seconds, INCREMENTAL_TARGETS.get(provider)
    verdict = "" if target is None else (
        f"; above the rerun target {target:g}: no client of this API can meet it here" if ratio > target else
        f"; within the rerun target {target:g}: the rest of the rerun is the client's")
    return reported(f"incremental.{provider}.floor_ratio", ratio, "x",
                    f"sequential httpx loop, {base.requests} requests (the windows since the last run began, "
                    f"every page of every campaign and small listing; {_routes_compared(rerun, base)}), "
                    f"{base.costs()} / full sync {full.seconds:.1f} s{verdict}; at {sandbox.contacts:,} contacts")
