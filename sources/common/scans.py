"""Full scans: which ids a complete listing saw, so what it did not see is marked deleted, and
which of them the warehouse lacks, so they load whatever their timestamps.

Providers expose no deletions. A resource that lists everything records the ids of each
page; only a scan that reached its end counts, so a failed or partial run never marks
anything deleted.

A record a listing returns can be missing from the warehouse with a timestamp behind the
cursor: a listing that shifted under a deletion skipped it once, or it came back (or was
created) with an old timestamp. A cursor alone would pass over it on every later run, so a
complete listing also loads every record the warehouse lacks or holds as deleted (`lacked`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import dlt
import numpy as np
import pyarrow as pa

from crmsync.kernel.warehouse import connect as warehouse_connection
from crmsync.kernel.warehouse import tables_of

LIVE_IDS_SQL = (Path(__file__).parent / "live_ids.sql").read_text()


@dataclass
class Scan:
    table: str
    key: str
    ids: list[pa.Array] = field(default_factory=list)
    complete: bool = False
    warehouse: Path | None = None  # where `lacked` looks (None: nothing is held)
    _held: HeldIds | None = field(default=None, repr=False)

    def saw(self, ids: pa.Array | pa.ChunkedArray) -> None:
        self.ids.append(ids.cast(pa.string()))

    def finish(self) -> None:
        self.complete = True

    def seen(self) -> pa.Table:
        arrays = [chunk for ids in self.ids for chunk in getattr(ids, "chunks", [ids])]
        return pa.table({"id": pa.chunked_array(arrays, pa.string())})

    def lacked(self, ids: pa.Array | pa.ChunkedArray) -> pa.Array:
        """Which of these ids the warehouse lacks or holds as deleted (a boolean mask). The
        live ids are read once, when first asked: inside the run, before its load."""
        if self._held is None:
            self._held = HeldIds.read(self.warehouse, dlt.current.pipeline().dataset_name,
                                      self.table, self.key)
        return self._held.lacks(ids)


class HeldIds:
    """The ids a warehouse table holds live, as sorted bytes: a page is looked up by bisection
    (a hash set of a million ids would rebuild per page, or take ~100 MB as Python strings;
    this is the ids' bytes, ~36 MB for a million UUIDs, held while the scan runs)."""

    def __init__(self, ids: np.ndarray) -> None:
        self.ids = np.sort(ids)

    @classmethod
    def read(cls, warehouse: Path | None, dataset: str, table: str, key: str) -> HeldIds:
        if warehouse is None or not warehouse.exists():
            return cls(np.array([], dtype="S1"))
        with warehouse_connection(warehouse) as con:
            if table not in tables_of(con, dataset):
                return cls(np.array([], dtype="S1"))
            reader = con.sql(LIVE_IDS_SQL.format(table=f'"{dataset}"."{table}"', key=f'"{key}"')) \
                .fetch_arrow_reader(100_000)
            parts = [_bytes(batch.column(0)) for batch in reader]
        return cls(np.concatenate(parts) if parts else np.array([], dtype="S1"))

    def lacks(self, ids: pa.Array | pa.ChunkedArray) -> pa.Array:
        wanted = _bytes(ids)
        if not len(self.ids) or not len(wanted):
            return pa.array(np.ones(len(wanted), dtype=bool))
        # An id longer than every held one is not held (cast to their width, it would be cut).
        fits = np.char.str_len(wanted) <= self.ids.dtype.itemsize
        probe = wanted.astype(self.ids.dtype)
        at = np.minimum(np.searchsorted(self.ids, probe), len(self.ids) - 1)
        return pa.array(~(fits & (self.ids[at] == probe)))


def _bytes(ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Ids as fixed-width bytes (UTF-8), for numpy to sort and bisect."""
    values = [str(value).encode() for value in ids.to_pylist()]  # Chatrace's ids are integers
    return np.array(values, dtype=bytes) if values else np.array([], dtype="S1")


@dataclass
class FullScans:
    """The scans of one provider's run."""

    warehouse: Path | None = None
    scans: list[Scan] = field(default_factory=list)

    def start(self, table: str, key: str) -> Scan:
        scan = Scan(table, key, warehouse=self.warehouse)
        self.scans.append(scan)
        return scan

    def complete(self) -> list[Scan]:
        return [scan for scan in self.scans if scan.complete]
