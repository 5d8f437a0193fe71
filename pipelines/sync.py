"""`crmsync sync`: each provider's dlt pipeline into the warehouse, one provider at a time.

Each provider has its own pipeline (name `crmsync_<provider>`, dataset `raw_<provider>`)
and working directory beside the warehouse, so incremental state never mixes. A provider
that fails is reported and the others still run; within a provider, a resource that fails
alone (sources/common/run.py) is reported and the provider's other resources still load.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import dlt
from crmsync.kernel.errors import UserError
from crmsync.kernel.lake import Lake, lake_destination, provider_lock
from crmsync.kernel.warehouse import connect as warehouse_connection
from crmsync.kernel.warehouse import session as warehouse_session
from crmsync.kernel.warehouse import tables_of
from crmsync.pipelines.raw_dictionary import tidy_raw
from crmsync.sources import registry
from crmsync.sources.common import budget
from crmsync.sources.common.config import provider_settings
from crmsync.sources.common.http import RequestFailed, is_transient
from crmsync.sources.common.run import SyncRun
from crmsync.sources.common.selection import SKIP_RESOURCES, without_skipped
from dlt.common.pipeline import LoadInfo
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

MARK_DELETED_SQL = (Path(__file__).parent / "sql" / "mark_deleted.sql").read_text()
QUARANTINE_TABLE_SQL = (Path(__file__).parent / "sql" / "quarantine_table.sql").read_text()
QUARANTINE_ADD_SQL = (Path(__file__).parent / "sql" / "quarantine_add.sql").read_text()

THREADS_SETTING = "warehouse.threads"

Progress = Callable[[str, str, int], None]  # (provider, table, rows read so far)


@dataclass
class ProviderResult:
    # "ok"; "partial": resources failed alone (`failed_resources`), the others loaded;
    # "failed": nothing of this run loaded
    status: str = "ok"
    error: str | None = None  # one line; for "partial", every failed resource's
    transient: bool = False  # failed in a way a later attempt may not meet (flows retry it)
    rows: dict[str, int] = field(default_factory=dict)  # rows loaded this run, per table
    read: dict[str, int] = field(default_factory=dict)  # rows the API answered, per table
    deleted: dict[str, int] = field(default_factory=dict)  # rows newly marked deleted
    problems: dict[str, dict[str, int]] = field(default_factory=dict)
    requests: int = 0
    retries: int = 0
    seconds: float = 0.0
    failed_resources: dict[str, str] = field(default_factory=dict)  # resource -> why (one line)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def tables(self) -> list[str]:
        """Every table this run loaded, read, marked, or whose resource failed (a resource
        loads the table of its name)."""
        return sorted(set(self.rows) | set(self.deleted) | set(self.read) | set(self.failed_resources))

    def table_status(self, table: str) -> tuple[str, str | None]:
        """(status, error) of one table: the provider's when it failed, else its resource's."""
        if self.status == "failed":
            return "failed", self.error
        if table in self.failed_resources:
            return "failed", self.failed_resources[table]
        return "ok", None


def pipelines_dir(warehouse: Path) -> Path:
    """Where dlt keeps each provider's working state: beside the warehouse, unless set. Its
    load files are read by DuckDB's read_parquet, which takes any `name=value` folder on their
    path for a hive partition and adds a column of that name (the load then fails with "does
    not have a column"), so such a folder is refused first, naming the way out."""
    configured = os.environ.get("CRMSYNC_PIPELINES_DIR")
    folder = Path(configured) if configured else warehouse.parent / f".{warehouse.name}.pipelines"
    partition_like = [part for part in folder.absolute().parts if "=" in part]
    if partition_like:
        raise UserError(f"the sync's working folder {folder} has '=' in {partition_like[0]!r}, which DuckDB "
                        "reads as a hive partition when loading: set CRMSYNC_PIPELINES_DIR to a folder "
                        "without '=', or rename it")
    return folder


def sync(providers: list[str] | None, warehouse: Path, full_refresh: bool = False,
         progress: Progress | None = None) -> dict[str, ProviderResult]:
    """Sync each provider (every registered one by default); one failing does not stop the
    others."""
    chosen = providers or list(registry.names())
    for provider in chosen:
        registry.provider(provider)  # an unknown name is a UserError before anything runs
    with warehouse_session(warehouse):
        return {p: sync_provider(p, warehouse, full_refresh, progress) for p in chosen}


def sync_provider(provider: str, warehouse: Path, full_refresh: bool = False,
                  progress: Progress | None = None, full_scan: bool = False) -> ProviderResult:
    """One provider's sync; `full_scan` makes its run scan everything (its descriptor's
    full_scan settings), as the nightly flow does."""
    started = time.monotonic()
    result = ProviderResult()
    run = SyncRun(warehouse=warehouse,
                  on_rows=(lambda table, rows: progress(provider, table, rows)) if progress else None)
    try:
        with warehouse_session(warehouse), provider_lock(warehouse, provider):  # see kernel/lake.py
            settings = provider_settings(provider, full_scan)
            described = registry.provider(provider)
            source = without_skipped(described, described.build_source(settings, run),
                                     settings.get(SKIP_RESOURCES.key, []))
            pipeline = dlt.pipeline(
                pipeline_name=f"crmsync_{provider}",
                destination=warehouse_destination(warehouse),
                dataset_name=f"raw_{provider}",
                pipelines_dir=str(pipelines_dir(warehouse)),
            )
            load_one_file_at_a_time()
            info = pipeline.run(source, loader_file_format="parquet",
                                refresh="drop_sources" if full_refresh else None)
            result.rows = _rows_loaded(pipeline, info)
            tidy_raw(warehouse, pipeline, described.dictionary)
            result.deleted = mark_deleted(warehouse, f"raw_{provider}", run)
            budget.save(warehouse, provider, run.refreshes, failed=run.failed)
            quarantine(warehouse, provider, run)
    except (UserError, RequestFailed) as error:
        result.status, result.error, result.transient = "failed", str(error), is_transient(error)
    except Exception as error:  # noqa: BLE001 - one provider's failure must not stop the others
        cause = _innermost(error)
        result.status, result.error, result.transient = "failed", _describe(cause), is_transient(cause)
    finally:
        run.close()
    resources_failed(result, provider, run.failed)
    result.problems = run.problems()
    result.read = {table: shape.rows_read for table, shape in run.shapes.items()}
    counts = run.requests()
    result.requests, result.retries = counts["requests"], counts["retries"]
    result.seconds = round(time.monotonic() - started, 3)
    return result


def resources_failed(result: ProviderResult, provider: str, failed: dict[str, Exception]) -> None:
    """Record the resources that failed alone; a run that otherwise succeeded is partial,
    worth retrying when one of them may heal."""
    result.failed_resources = {name: _describe(error) for name, error in sorted(failed.items())}
    if failed and result.status == "ok":
        result.status, result.transient = "partial", any(is_transient(e) for e in failed.values())
        result.error = f"{provider}: " + "; ".join(
            f"{name} failed: {error.removeprefix(f'{provider}: ')}" for name, error in result.failed_resources.items())


def load_one_file_at_a_time() -> None:
    """dlt loads up to 20 files at once by default; DuckDB already spreads the copy and merge
    of one file over the cores, and each file loading beside it holds its own buffers (a full
    Chatman sync of 1,000,000 people: peak RSS 597 MB with the default, 568 MB with one at a
    time, in no more time). A `load.workers` the user configured stays."""
    if dlt.config.get("load.workers") is None:
        dlt.config["load.workers"] = 1


def warehouse_destination(warehouse: Path | Lake) -> dlt.destinations.duckdb | dlt.destinations.ducklake:
    """The DuckDB destination, with a memory cap: merging a large load otherwise takes memory
    in proportion to the rows (DuckDB spills to disk past the cap instead). A full Chatman sync
    of 1,000,000 people peaked at ~800 MB RSS with a 512MB cap, ~600 MB with 256MB and ~490 MB
    with 128MB; the price is a slower load at that size (20 s against 15 s with 256MB, in
    `crmsync bench`). Rows need not keep the order they were read in (keeping it holds more of a
    large insert in memory). A lake gets dlt's ducklake destination with the same settings."""
    global_config = {
        "memory_limit": dlt.config.get("warehouse.memory_limit", str) or "128MB",
        "preserve_insertion_order": False,
        "threads": sync_threads(),
    }
    if isinstance(warehouse, Lake):
        return lake_destination(warehouse, global_config)
    credentials = DuckDbCredentials(str(warehouse))
    credentials.global_config = global_config
    return dlt.destinations.duckdb(credentials)


def sync_threads() -> int:
    """DuckDB's threads while a sync writes (`warehouse.threads`, default 1). A load copies a
    few parquet files and merges them: on two threads it took 2.2 s of CPU against 1.45 s
    on one, and no less wall time (a full Chatman sync of 100,000 people, `crmsync bench`, on
    2 cores). A scheduled run's loads are small; a first sync of 1,000,000 people loads in half
    the time on two (README, Performance), so a large first sync may set more. The transforms
    keep DuckDB's default (every core)."""
    try:
        threads = dlt.config.get(THREADS_SETTING, int)
    except Exception:  # noqa: BLE001 - dlt raises several kinds for a value that is not a number
        threads = 0
    if threads is None:
        return 1
    if threads < 1:
        raise UserError(f"setting {THREADS_SETTING} must be a whole number of threads above 0 (default 1)")
    return threads


def mark_deleted(warehouse: Path, dataset: str, run: SyncRun) -> dict[str, int]:
    """Mark what each complete full scan of this run did not see as deleted, in one
    transaction (one commit for every table: a rerun scans several small listings)."""
    scans = run.scans.complete()
    if not scans:
        return {}
    noticed_at = datetime.now(timezone.utc)
    marked = {}
    with warehouse_connection(warehouse) as con:
        con.begin()
        existing = tables_of(con, dataset)
        for scan in scans:
            if scan.table not in existing:  # nothing was ever loaded: nothing to mark
                continue
            con.register("seen_ids", scan.seen())
            sql = MARK_DELETED_SQL.format(table=f'"{dataset}"."{scan.table}"', key=f'"{scan.key}"')
            changed = con.execute(sql, {"noticed_at": noticed_at}).fetchone()
            marked[scan.table] = int(changed[0]) if changed else 0
            con.unregister("seen_ids")
        con.commit()
    return marked


def quarantine(warehouse: Path, provider: str, run: SyncRun) -> None:
    """Keep what the run set aside in ops.quarantine (sql/quarantine_table.sql)."""
    set_aside = run.set_aside()
    if not set_aside.num_rows:
        return
    with warehouse_connection(warehouse) as con:
        con.execute(QUARANTINE_TABLE_SQL)
        con.register("set_aside", set_aside)
        con.execute(QUARANTINE_ADD_SQL, {"provider": provider, "noticed_at": datetime.now(timezone.utc)})
        con.unregister("set_aside")


def _rows_loaded(pipeline: dlt.Pipeline, info: LoadInfo) -> dict[str, int]:
    normalized = pipeline.last_trace.last_normalize_info if pipeline.last_trace else None
    counts = normalized.row_counts if normalized else {}
    return {table: n for table, n in counts.items() if not table.startswith("_dlt")}


def _innermost(error: BaseException) -> BaseException:
    """The innermost cause, which is where dlt wraps the real error."""
    while error.__cause__ is not None:
        error = error.__cause__
    return error


def _describe(error: BaseException) -> str:
    """One line naming the error (the innermost cause, see _innermost)."""
    if isinstance(error, UserError | RequestFailed):
        return str(error)
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}"[:500]
