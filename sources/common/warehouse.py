"""How a sync opens the warehouse outside dlt's loader, and keeps it open while providers
sync side by side in one process.

DuckDB shares one database instance between the connections of a process, but only when
they open it with the same configuration (a read-only connection is refused while a loader
of another provider holds the file open), and opening it while another thread closes the
last connection races ("Unique file handle conflict"). So every sync-side connection opens
the file plainly, as dlt's loader does (the process is the warehouse's one writer anyway),
and a sync holds a `session` for its whole duration so the instance is never torn down and
reopened under a neighbour.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from crmsync.errors import UserError

_lock = threading.Lock()
_sessions: dict[Path, tuple[duckdb.DuckDBPyConnection, int]] = {}


def connect(warehouse: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(warehouse))


@contextmanager
def session(warehouse: Path) -> Iterator[None]:
    """Keep the warehouse's instance open until the outermost session of the process ends."""
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
        raise UserError(f"{warehouse}: cannot open the warehouse ({str(error).splitlines()[0]})") from None
