"""Item 5: 10,000 membership changes pushed against a rate-limited sandbox, against the bound
(requests / rate), and the write calls of a rerun with nothing changed.

The changes come from a real sync and transform: Chatman synced, the shipped models built in a
temporary transforms root whose only segment (sql/bench_push.sql) selects 10,000 people with a
Chatman contact, pushed as a Chatman segment (subscribe, `push_batch_size` users a call)."""

from __future__ import annotations

import math
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from crmsync.benchmarks.figures import Figure, at_most, reported
from crmsync.benchmarks.sandbox_process import running_sandbox
from crmsync.benchmarks.sync_bench import crmsync_sync
from crmsync.kernel.environment import temporary_environment
from crmsync.sandbox.link import sandbox_environment
from crmsync.pipelines.push import push
from crmsync.sources.common.config import provider_settings
from crmsync.kernel.warehouse import open_warehouse
from crmsync.transforms.runner import DEFAULT_ROOT, run_transforms

Progress = Callable[[str], None]

CHANGES = 10_000
POPULATION = 20_000  # Chatman holds about 60% of the people: over 10,000 contacts
SEGMENT = "bench_push"
PROVIDER = "chatman"
RATE_BOUND_TARGET = 1.1
SEGMENT_SQL = (Path(__file__).parent / "sql" / f"{SEGMENT}.sql").read_text()
# Reads, not writes: the Waabot login is a POST.
NOT_WRITES = {"POST /sessions"}


def push_figures(contacts: int, workdir: Path, progress: Progress, bound_min_s: float) -> list[Figure]:
    population = min(contacts, POPULATION)
    with running_sandbox(population) as sandbox:
        warehouse = workdir / "push.duckdb"
        progress(f"push: syncing {PROVIDER} at {population:,} contacts")
        crmsync_sync(sandbox, PROVIDER, warehouse)
        root = _transforms_root(workdir / "push-transforms")
        progress("push: building the models and the bench segment")
        built = run_transforms(warehouse, root)
        if built.status != "ok":
            raise RuntimeError(f"the transform for the push benchmark failed: {built.status}")
        members = _members(warehouse)
        with temporary_environment(sandbox_environment(sandbox.url)):
            batch = int(provider_settings(PROVIDER)["push_batch_size"])
        # The write calls, plus finding the segment and creating it (the bound counts every
        # request answered, so this only decides how slow the rate is).
        rate = round((math.ceil(members / batch) + 2) / bound_min_s, 3)
        env = {**sandbox_environment(sandbox.url), f"SOURCES__{PROVIDER.upper()}__REQUESTS_PER_SECOND": str(rate)}
        sandbox.set_faults(rate_limit=rate)
        try:
            progress(f"push: {members:,} changes at {rate} requests/s")
            sandbox.reset_stats()
            with temporary_environment(env):
                started = time.perf_counter()
                first = push(warehouse, [SEGMENT], [PROVIDER], transforms_root=root)
                seconds = time.perf_counter() - started
            statuses = sandbox.statuses(PROVIDER)
            progress("push: rerun with nothing changed")
            sandbox.reset_stats()
            with temporary_environment(env):
                again = push(warehouse, [SEGMENT], [PROVIDER], transforms_root=root)
            writes = sum(n for route, n in sandbox.requests(PROVIDER).items()
                         if not route.startswith("GET ") and route not in NOT_WRITES)
        finally:
            sandbox.set_faults(rate_limit=None)
    if first.status != "ok" or again.status != "ok":
        raise RuntimeError(f"the benchmark push failed: {first.as_dict()}")
    answered = sum(n for status, n in statuses.items() if status.startswith("2"))
    bound = answered / rate
    added = first.total("added")
    return [
        reported("push.changes", added, "changes",
                 f"added to a Chatman segment; {members:,} members selected at {population:,} contacts"),
        at_most("push.bound_ratio", seconds / bound, "x", RATE_BOUND_TARGET,
                f"wall {seconds:.1f} s / ({answered} requests / {rate} per s = {bound:.1f} s); "
                f"{statuses.get('429', 0)} answered 429"),
        at_most("push.rerun_write_calls", writes, "calls", 0,
                f"non-GET requests of a rerun with no change, from /_sandbox/stats; "
                f"rerun added {again.total('added')}, removed {again.total('removed')}"),
    ]


def _transforms_root(root: Path) -> Path:
    """The shipped models (the copy has no staging/ folder either: the providers' staging models
    still apply), and the benchmark's segment as the only segment."""
    shutil.copytree(DEFAULT_ROOT, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    for shipped in (root / "segments").glob("*.sql"):
        shipped.unlink()
    (root / "segments" / f"{SEGMENT}.sql").write_text(SEGMENT_SQL.format(changes=CHANGES))
    return root


def _members(warehouse: Path) -> int:
    with open_warehouse(warehouse, read_only=True) as con:
        return con.execute("SELECT count(*) FROM crm.segment_members WHERE segment = ?", [SEGMENT]).fetchone()[0]
