"""The one way crmsync opens the warehouse, and the one way it asks which relations exist.

`open_warehouse` is for commands that read or write an existing warehouse (transform, push,
status, segments, benchmarks): a missing file or one another process is writing is one line.
`confined=True` is for connections that run SQL from model and segment files: that SQL is
code anyone who may write those files runs, so it must not read the machine (see CONFINED).

A sync opens it differently, outside dlt's loader, and keeps it open while providers sync
side by side in one process. DuckDB shares one database instance between the connections
of a process, but only when they open it with the same configuration (a read-only connection
is refused while a loader of another provider holds the file open), and opening it while
another thread closes the last connection races ("Unique file handle conflict"). So every
sync-side connection (`connect`) opens the file plainly, as dlt's loader does (the process
is the warehouse's one writer anyway), and a sync holds a `session` for its whole duration so
the instance is never torn down and reopened under a neighbour.

A warehouse is either that DuckDB file (a Path, the default) or a DuckLake (kernel/lake.py):
`parse_warehouse` reads the location once, and every function here takes either kind. A lake
connection is its own in-memory DuckDB with the lake attached, so there is no shared instance
to hold and `session` does nothing for it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from crmsync.kernel.errors import UserError
from crmsync.kernel.lake import PREFIX, Lake, connect_lake, parse_lake

Warehouse = Path | Lake

_lock = threading.Lock()
_sessions: dict[Path, tuple[duckdb.DuckDBPyConnection, int]] = {}

# A confined connection reaches no file but the warehouse (read_csv, read_text, glob, COPY,
# ATTACH, INSTALL: "file system operations are disabled by configuration") and cannot
# switch that back (SET and RESET of any setting fail). Python functions registered on it
# (phone_e164) and Arrow tables it is handed still work. getenv() exists only in DuckDB's own
# shell, never in the Python client, so the environment has no way in either.
CONFINED = {"enable_external_access": False, "lock_configuration": True}


def parse_warehouse(location: str | Path | Lake, home: Path | None = None) -> Warehouse:
    """`--warehouse`/CRMSYNC_WAREHOUSE: `ducklake:...` is a lake (its local state in `home`, the
    current folder by default), anything else a DuckDB file."""
    if isinstance(location, Lake):
        return location
    if str(location).startswith(PREFIX):
        return parse_lake(str(location), home or Path.cwd())
    return Path(location)


def open_warehouse(warehouse: Warehouse, read_only: bool, confined: bool = False) -> duckdb.DuckDBPyConnection:
    """A connection to an existing warehouse; one locked by another writer is a UserError.
    DuckDB refuses a confined connection while this process has the file open unconfined
    (one configuration per open database), and the other way round."""
    if isinstance(warehouse, Lake):
        return connect_lake(warehouse, read_only, confined)
    if not warehouse.exists():
        raise UserError(f"no warehouse at {warehouse}; run crmsync sync first")
    try:
        return duckdb.connect(str(warehouse), read_only=read_only, config=CONFINED if confined else {})
    except duckdb.IOException as error:
        raise UserError(f"{warehouse}: cannot open it ({first_line(error)}); "
                        "is another crmsync command writing to it?") from None


def relations(con: duckdb.DuckDBPyConnection, schema: str | None = None) -> dict[str, str]:
    """Every relation of the warehouse (or of one schema), `schema.name` (lower case) ->
    "table" or "view"."""
    # Only the warehouse's own catalog: a lake's connection also sees its PostgreSQL catalog.
    rows = con.execute("SELECT schema_name, table_name, 'table' FROM duckdb_tables() WHERE NOT temporary "
                       "AND database_name = current_database() "
                       "UNION ALL SELECT schema_name, view_name, 'view' FROM duckdb_views() "
                       "WHERE NOT internal AND NOT temporary AND database_name = current_database()").fetchall()
    return {f"{s}.{name}".lower(): kind for s, name, kind in rows if schema is None or s == schema}


def tables_of(con: duckdb.DuckDBPyConnection, schema: str) -> set[str]:
    """The names of one schema's relations, without the schema."""
    return {name.split(".", 1)[1] for name in relations(con, schema)}


def first_line(error: BaseException) -> str:
    """An error's first line (DuckDB's messages go on with hints and context)."""
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else type(error).__name__


def connect(warehouse: Warehouse) -> duckdb.DuckDBPyConnection:
    """A sync-side connection (see the module's docstring)."""
    if isinstance(warehouse, Lake):
        return connect_lake(warehouse)
    return duckdb.connect(str(warehouse))


@contextmanager
def session(warehouse: Warehouse) -> Iterator[None]:
    """Keep the warehouse's instance open until the outermost session of the process ends."""
    if isinstance(warehouse, Lake):
        yield
        return
    key = warehouse.resolve()
    with _lock:
        held, users = _sessions.get(key, (None, 0))
        _sessions[key] = (held or _open_first(warehouse), users + 1)
    try:
        yield
    finally:
        with _lock:
            held, users = _sessions.pop(key)
            if users > 1:
                _sessions[key] = (held, users - 1)
            else:
                held.close()


def _open_first(warehouse: Path) -> duckdb.DuckDBPyConnection:
    try:
        return connect(warehouse)
    except duckdb.Error as error:
        raise UserError(f"{warehouse}: cannot open the warehouse ({first_line(error)})") from None
