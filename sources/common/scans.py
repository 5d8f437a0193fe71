"""Full scans: which ids a complete listing saw, so what it did not see is marked deleted.

Providers expose no deletions. A resource that lists everything records the ids of each
page; only a scan that reached its end counts, so a failed or partial run never marks
anything deleted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa


@dataclass
class Scan:
    table: str
    key: str
    ids: list[pa.Array] = field(default_factory=list)
    complete: bool = False

    def saw(self, ids: pa.Array | pa.ChunkedArray) -> None:
        self.ids.append(ids.cast(pa.string()))

    def finish(self) -> None:
        self.complete = True

    def seen(self) -> pa.Table:
        arrays = [chunk for ids in self.ids for chunk in getattr(ids, "chunks", [ids])]
        return pa.table({"id": pa.chunked_array(arrays, pa.string())})


@dataclass
class FullScans:
    """The scans of one provider's run."""

    scans: list[Scan] = field(default_factory=list)

    def start(self, table: str, key: str) -> Scan:
        scan = Scan(table, key)
        self.scans.append(scan)
        return scan

    def complete(self) -> list[Scan]:
        return [scan for scan in self.scans if scan.complete]
