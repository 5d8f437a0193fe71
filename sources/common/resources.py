"""Turning pages of provider records into the arrow tables a dlt resource yields."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from sources.common.cursor import Cursor
from sources.common.records import TIMESTAMP, Shape
from sources.common.scans import Scan


def tables(pages: Iterable[list[dict[str, Any]]], shape: Shape, key: str, *,
           cursor: Cursor | None = None, scan: Scan | None = None,
           deletable: bool = False) -> Iterator[pa.Table]:
    """One arrow table per page: typed by `shape`, rows without a key counted and left out
    (they cannot be merged), filtered by `cursor`, ids recorded by `scan`. A `deletable`
    table carries a null `deleted_at`, so a record that comes back is live again."""
    for records in pages:
        table = shape.table(records)
        keyed = pc.is_valid(table.column(key))
        missing = table.num_rows - pc.sum(keyed).as_py() if table.num_rows else 0
        if missing:
            shape.problems[f"{key}: missing, record not loaded"] += missing
            table = table.filter(keyed)
        if scan is not None:
            scan.saw(table.column(key))
        if cursor is not None:
            table = cursor.new_rows(table)
        if deletable:
            table = table.append_column("deleted_at", pa.nulls(table.num_rows, TIMESTAMP))
        if table.num_rows:
            yield table
    if scan is not None:
        scan.finish()
    if cursor is not None:
        cursor.commit()
