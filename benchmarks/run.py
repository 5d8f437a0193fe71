"""`crmsync bench`: every item of issue #7, each against a sandbox in its own process (so the
sandbox's CPU is not in the measured process), baselines in the same run."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from crmsync.benchmarks.figures import Figure
from crmsync.benchmarks.lake_bench import lake_figures
from crmsync.benchmarks.memory import memory_figures, sync_in_child
from crmsync.benchmarks.push_bench import push_figures
from crmsync.benchmarks.sandbox_process import SandboxProcess, running_sandbox
from crmsync.benchmarks.sync_bench import (
    Measured,
    crmsync_sync,
    declarative_figures,
    declarative_sync,
    floor_sync,
    full_sync_figures,
    incremental_figures,
    rate_limited_figures,
)
from crmsync.benchmarks.transforms import measure_transforms
from crmsync.sources import registry

Progress = Callable[[str], None]

# Item names for --only / --skip, in the order they run (churn, which changes the data, last).
ITEMS = ("sync", "declarative", "rate_limit", "memory", "transforms", "push", "lake", "incremental")
PAGED = ("chatman", "whautomate")  # cursor paging, page paging
RATE_LIMITED = "chatman"
DECLARATIVE_MAX = 100_000  # the declarative source is slow: measured at most at this size
MEMORY_PROVIDERS = ("chatman", "waabot")  # the most records; the one 150 MB answer
# One request per person (Whautomate's messages, Chatrace's and DM Champ's look-ups): at
# 1,000,000 contacts one full sync of each is hundreds of thousands of requests, ~10 minutes
# each here (days at the providers' real rates), so item 3 measures them at most at this size.
PER_PERSON = ("whautomate", "chatrace", "dmchamp")
PER_PERSON_MAX = 100_000
EVENTS_PER_CONTACT = 10  # item 4: 1,000,000 contacts and 10,000,000 events


def run_bench(contacts: int, items: tuple[str, ...] = ITEMS, progress: Progress = lambda _: None,
              bound_min_s: float = 20.0) -> dict[str, Any]:
    """Measure `items` at `contacts` people; the JSON document `crmsync bench --json` prints."""
    figures = _Figures(progress)
    with tempfile.TemporaryDirectory(prefix="crmsync-bench-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        sandboxes = _Sandboxes(stack, progress)
        declarative_at = min(contacts, DECLARATIVE_MAX)
        full: dict[str, Measured] = {}
        if "sync" in items:
            big = sandboxes.at(contacts)
            for provider in PAGED:
                progress(f"sync: crmsync full sync of {provider} at {contacts:,} contacts")
                full[provider] = crmsync_sync(big, provider, work / f"{provider}-full.duckdb")
                progress(f"sync: floor of {provider}")
                figures += full_sync_figures(provider, full[provider], floor_sync(big, provider))
        if "declarative" in items:
            small = sandboxes.at(declarative_at)
            for provider in PAGED:
                at_small = full.get(provider) if small.contacts == contacts else None
                if at_small is None:
                    progress(f"declarative: crmsync full sync of {provider} at {declarative_at:,} contacts")
                    at_small = crmsync_sync(small, provider, work / f"{provider}-small.duckdb")
                progress(f"declarative: dlt rest_api_source of {provider} at {declarative_at:,} contacts")
                slow = declarative_sync(small, provider, work / f"declarative-{provider}")
                figures += declarative_figures(provider, at_small, slow, declarative_at)
        if "rate_limit" in items:
            sandbox = sandboxes.at(declarative_at)
            unthrottled = full.get(RATE_LIMITED) if sandbox.contacts == contacts else None
            if unthrottled is None:
                progress(f"rate_limit: unthrottled {RATE_LIMITED} sync at {declarative_at:,} contacts")
                unthrottled = crmsync_sync(sandbox, RATE_LIMITED, work / "unthrottled.duckdb")
            progress(f"rate_limit: {RATE_LIMITED} sync against a rate-limited sandbox")
            figures += rate_limited_figures(sandbox, RATE_LIMITED, unthrottled, work, bound_min_s)
        if "memory" in items:
            figures += _memory(sandboxes, contacts, work, progress)
        if "transforms" in items:
            figures += _transforms(contacts, work, progress)
        if "push" in items:
            figures += push_figures(contacts, work, progress, bound_min_s)
        if "lake" in items:
            figures += lake_figures(sandboxes.at(contacts), work / "lake", progress)
        if "incremental" in items:
            for figure in _incremental(sandboxes, contacts, work, progress):
                figures += [figure]
    return {"contacts": contacts, "machine": machine(), "figures": [f.as_dict() for f in figures]}


class _Figures(list):
    """The figures so far, each also shown as progress when measured: a long run stopped
    half-way still leaves what it measured."""

    def __init__(self, progress: Progress) -> None:
        super().__init__()
        self._progress = progress

    def __iadd__(self, more: list[Figure]) -> _Figures:
        for figure in more:
            target = f" (target {figure.target}: {'met' if figure.met else 'MISSED'})" if figure.target else ""
            self._progress(f"  {figure.name} = {figure.value:g} {figure.unit}{target}; {figure.note}")
        self.extend(more)
        return self


class _Sandboxes:
    """One sandbox process per population size, started when first needed, stopped at the end."""

    def __init__(self, stack: ExitStack, progress: Progress) -> None:
        self._stack = stack
        self._progress = progress
        self._running: dict[int, SandboxProcess] = {}

    def at(self, contacts: int) -> SandboxProcess:
        if contacts not in self._running:
            self._progress(f"starting a sandbox of {contacts:,} contacts in its own process")
            self._running[contacts] = self._stack.enter_context(running_sandbox(contacts))
        return self._running[contacts]


def _memory(sandboxes: _Sandboxes, contacts: int, work: Path, progress: Progress) -> list[Figure]:
    smaller = max(contacts // 10, 1)
    figures = []
    for provider in MEMORY_PROVIDERS:
        peaks = {}
        for size in (contacts, smaller):
            progress(f"memory: {provider} full sync at {size:,} contacts in a child process")
            peaks[size] = sync_in_child(sandboxes.at(size), provider, work / f"memory-{provider}-{size}.duckdb")
        figures += memory_figures(provider, contacts, peaks[contacts], smaller, peaks[smaller])
    return figures


def _transforms(contacts: int, work: Path, progress: Progress) -> list[Figure]:
    events = contacts * EVENTS_PER_CONTACT
    progress(f"transforms: {contacts:,} contacts and {events:,} events")
    (work / "transforms").mkdir()
    return measure_transforms(contacts, events, work / "transforms")


def _incremental(sandboxes: _Sandboxes, contacts: int, work: Path, progress: Progress) -> Iterator[Figure]:
    """Item 3 for every provider: the listable ones at `contacts`, the per-person ones at most
    at PER_PERSON_MAX (with every provider synced in the same warehouse before them, as a run
    does: DM Champ looks up the people the others know)."""
    providers = list(registry.names())
    smaller = min(contacts, PER_PERSON_MAX)
    if smaller == contacts:
        yield from incremental_figures(sandboxes.at(contacts), providers, providers, work / "incremental", progress)
        return
    listable = [p for p in providers if p not in PER_PERSON]
    yield from incremental_figures(sandboxes.at(contacts), listable, listable, work / "incremental", progress)
    per_person = [p for p in providers if p in PER_PERSON]
    yield from incremental_figures(sandboxes.at(smaller), providers, per_person, work / "incremental-per-person",
                                   progress)


def machine() -> dict[str, Any]:
    def version(package: str) -> str:
        return importlib.metadata.version(package)

    return {
        "cores": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "dlt": version("dlt"), "duckdb": version("duckdb"), "pyarrow": version("pyarrow"),
        "httpx": version("httpx"),
        "sandbox": "its own process (crmsync sandbox serve): its CPU is not in the measured process",
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }

