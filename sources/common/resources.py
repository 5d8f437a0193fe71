"""Turning pages of provider records into the arrow tables a dlt resource yields."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from crmsync.sources.common.cursor import NewRows
from crmsync.sources.common.records import TIMESTAMP, Shape
from crmsync.sources.common.scans import Scan

ROWS_PER_ITEM = 20_000  # `batch_rows` for the large listings: a few MB of arrow per dlt item


def tables(pages: Iterable[list[dict[str, Any]]], shape: Shape, key: str, *,
           cursor: NewRows | None = None, scan: Scan | None = None,
           fingerprints: dict[str, str] | None = None,
           deletable: bool = False, batch_rows: int = 0) -> Iterator[pa.Table]:
    """Arrow tables of the pages: each read by `shape.rows` (what cannot load set aside, a key
    twice kept once), ids recorded by `scan`, then only what changed kept: rows past `cursor`
    (and, in a complete listing, every row the warehouse lacks or holds as deleted, see
    `new_rows`), or rows whose content differs from their `fingerprints` (resource state, for
    listings with no timestamp). A `deletable` table carries a null `deleted_at`, so a record
    that comes back is live again. One table per page, or, with `batch_rows`, pages joined
    into tables of about that many rows: dlt spends ~10 ms on every item it is handed, which
    at 1,000 rows a page costs as much as converting the page."""
    batch: list[pa.Table] = []
    rows = 0
    try:
        for table in _changed_rows(pages, shape, key, cursor, scan, fingerprints, deletable):
            batch.append(table)
            rows += table.num_rows
            if rows >= batch_rows:
                yield _joined(batch, shape, key)
                batch, rows = [], 0
    except Exception:
        # A page failed: the rows read before it load all the same, since `fingerprints`
        # already counts them (a resource that fails alone keeps its state).
        if batch:
            yield _joined(batch, shape, key)
        raise
    if batch:
        yield _joined(batch, shape, key)
    if scan is not None:
        scan.finish()
    if cursor is not None:
        cursor.commit()


def _joined(tables: list[pa.Table], shape: Shape, key: str) -> pa.Table:
    """One table; a column only some pages had (a field nobody declared) is null elsewhere; a
    key two pages both had, once (each page has each key once already)."""
    if len(tables) == 1:
        return tables[0]
    return shape.one_per_key(pa.concat_tables(tables, promote_options="default"), key)[0]


def _changed_rows(pages: Iterable[list[dict[str, Any]]], shape: Shape, key: str,
                  cursor: NewRows | None, scan: Scan | None, fingerprints: dict[str, str] | None,
                  deletable: bool) -> Iterator[pa.Table]:
    for page in pages:
        table, records = shape.rows(page, key)
        if fingerprints is not None:
            table = table.append_column("_digest", pa.array([_digest(r) for r in records], pa.string()))
        table = require_keys(table, (key,))
        if scan is not None:
            scan.saw(table.column(key))
        if cursor is not None:
            table = new_rows(table, key, cursor, scan)
        if fingerprints is not None:
            table = _changed(table, key, fingerprints)
        if deletable:
            table = table.append_column("deleted_at", pa.nulls(table.num_rows, TIMESTAMP))
        if table.num_rows:
            yield table


def new_rows(table: pa.Table, key: str, cursor: NewRows, scan: Scan | None) -> pa.Table:
    """The rows past `cursor`; with the `scan` of a complete listing, also every row the
    warehouse lacks or holds as deleted, whatever its timestamp (scans.py)."""
    kept = cursor.new_rows(table)
    if scan is None or kept.num_rows == table.num_rows:
        return kept
    ids = table.column(key)
    lacked = pc.and_(scan.lacked(ids), pc.invert(pc.is_in(ids, value_set=kept.column(key).combine_chunks())))
    if not pc.any(lacked).as_py():
        return kept
    return pa.concat_tables([kept, table.filter(lacked)], promote_options="default")


def _digest(record: dict[str, Any]) -> str:
    return hashlib.blake2b(json.dumps(record, sort_keys=True, default=str).encode(), digest_size=12).hexdigest()


def _changed(table: pa.Table, key: str, fingerprints: dict[str, str]) -> pa.Table:
    """Rows whose content changed since the last run; remembers the new fingerprints."""
    ids = [str(k) for k in table.column(key).to_pylist()]
    digests = table.column("_digest").to_pylist()
    changed = [fingerprints.get(i) != d for i, d in zip(ids, digests)]
    fingerprints.update(zip(ids, digests))
    return table.filter(pa.array(changed, pa.bool_())).drop_columns(["_digest"])


def require_keys(table: pa.Table, columns: str | tuple[str, ...]) -> pa.Table:
    """Declare primary-key columns non-nullable, as dlt's primary-key hint has them; rows
    missing one are dropped (the caller counts them)."""
    names = (columns,) if isinstance(columns, str) else columns
    for name in names:
        if table.column(name).null_count:  # filtering copies every column: only when needed
            table = table.filter(pc.is_valid(table.column(name)))
    schema = table.schema
    for name in names:
        schema = schema.set(schema.get_field_index(name), schema.field(name).with_nullable(False))
    return table.cast(schema)
