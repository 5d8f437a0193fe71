"""The lake item of `crmsync bench`: the same full sync into a DuckLake (PostgreSQL catalog,
Parquet files in a folder) and into the DuckDB file, and three providers' syncs at once (each
its own process, as separate workers run them) against one after another, into a lake.

The catalog is a PostgreSQL 16 that the benchmark starts itself (pgserver, a dev dependency:
`pip install -e '.[dev]'`), on a unix socket in the benchmark's folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from crmsync.benchmarks.figures import Figure, reported
from crmsync.benchmarks.sandbox_process import SandboxProcess
from crmsync.benchmarks.sync_bench import crmsync_sync
from crmsync.kernel.environment import temporary_environment
from crmsync.kernel.warehouse import parse_warehouse
from crmsync.sandbox.link import sandbox_environment

COMPARED = "chatman"  # the biggest listable provider: the load dominates least, the fairest ratio
SIDE_BY_SIDE = ("chatman", "whautomate", "waabot")  # listable: no provider waits for another's people


@contextmanager
def catalog() -> Iterator[Callable[[str], str]]:
    """A PostgreSQL server for the benchmark; yields: database name -> a new lake's location.
    Its folder is its own (pgserver's user must enter every folder above it)."""
    try:
        import pgserver
    except ImportError:
        raise RuntimeError("the lake item needs pgserver (pip install -e '.[dev]')") from None
    folder = tempfile.mkdtemp(prefix="crmsync-bench-postgres-")
    server = pgserver.get_server(folder, cleanup_mode="stop")
    socket_folder = server.get_uri().split("host=", 1)[1]

    def new_lake(database: str) -> str:
        server.psql(f"CREATE DATABASE {database};")
        return f"ducklake:postgres:dbname={database} user=postgres host={socket_folder}"

    try:
        yield new_lake
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


def lake_figures(sandbox: SandboxProcess, work: Path, progress: Callable[[str], None]) -> list[Figure]:
    work.mkdir(parents=True, exist_ok=True)
    with catalog() as new_lake:
        progress(f"lake: {COMPARED} full sync into a DuckDB file")
        into_file = crmsync_sync(sandbox, COMPARED, work / "file.duckdb",
                                 env={"CRMSYNC_PIPELINES_DIR": str(work / "file-pipelines")})
        progress("lake: the same sync into a DuckLake")
        env = {"WAREHOUSE__DATA_PATH": str(work / "lake-one"), "CRMSYNC_PIPELINES_DIR": str(work / "lake-pipelines")}
        with temporary_environment(env):
            lake = parse_warehouse(new_lake("bench_one"), work)
        into_lake = crmsync_sync(sandbox, COMPARED, lake, env=env)
        progress(f"lake: {', '.join(SIDE_BY_SIDE)} one after another, then at once, each its own process")
        after = _syncs(sandbox, new_lake("bench_after"), work / "after", at_once=False)
        together = _syncs(sandbox, new_lake("bench_together"), work / "together", at_once=True)
    return [
        reported(f"lake.{COMPARED}.file_seconds", into_file.seconds, "s", f"full sync into the DuckDB file; {into_file.costs()}"),
        reported(f"lake.{COMPARED}.lake_seconds", into_lake.seconds, "s",
                 f"the same into a DuckLake (PostgreSQL catalog, local Parquet); {into_lake.costs()}"),
        reported(f"lake.{COMPARED}.lake_ratio", into_lake.seconds / into_file.seconds, "x", "lake wall / file wall"),
        reported("lake.three.after_seconds", after, "s", f"{', '.join(SIDE_BY_SIDE)} one after another"),
        reported("lake.three.together_seconds", together, "s", "the same three at once into one lake"),
        reported("lake.three.wall_ratio", together / after, "x",
                 "at once / one after another (below 1: side by side pays; on a 2-core machine the "
                 "three processes share the cores with the sandbox)"),
    ]


def _syncs(sandbox: SandboxProcess, location: str, folder: Path, at_once: bool) -> float:
    """Wall seconds of the SIDE_BY_SIDE syncs as `crmsync sync --provider` processes."""
    folder.mkdir()
    env = {**os.environ, **sandbox_environment(sandbox.url), "WAREHOUSE__DATA_PATH": str(folder / "data"),
           "CRMSYNC_PIPELINES_DIR": str(folder / "pipelines")}

    def start(provider: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "crmsync", "sync", "--provider", provider, "--warehouse",
                                 location, "--json"], cwd=folder, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)

    started = time.perf_counter()
    if at_once:
        processes = [start(p) for p in SIDE_BY_SIDE]
    else:
        processes = []
        for provider in SIDE_BY_SIDE:
            processes.append(start(provider))
            processes[-1].wait()
    for provider, process in zip(SIDE_BY_SIDE, processes):
        if process.wait() != 0:
            raise RuntimeError(f"lake: {provider}'s sync failed: {process.stderr.read().strip()[-300:]}")
    return time.perf_counter() - started
