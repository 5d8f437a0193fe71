"""Incremental cursors kept in dlt resource state.

A cursor remembers the newest timestamp loaded and, for the last `lag` before it, which
record carried which timestamp. The next run asks from `cursor - lag` (late writes that got
an earlier timestamp are caught) and drops every record it already loaded with that same
timestamp, so a run with no changes loads nothing, and a rerun after a crash loads only what
did not land. What a run sees is judged against the cursor as the run found it (client-side
scans are not ordered by the cursor column) and taken in by `commit` once the scan is done.

A cursor only says what changed: a complete listing also loads what the warehouse lacks,
whatever its timestamp (scans.Scan.lacked, resources.tables).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc


class Cursor:
    def __init__(self, state: dict[str, Any], key: str, column: str, lag: timedelta) -> None:
        self.state = state  # the dlt resource state (or a part of it), changed by commit()
        self.key = key  # primary key column
        self.column = column  # timestamp column (arrow timestamp, UTC)
        self.lag = lag
        self._newest: datetime | None = _parse(state.get("newest"))
        self._recent: dict[str, str] = dict(state.get("recent", {}))
        self._seen_newest = self._newest
        self._seen_recent: dict[str, str] = {}
        self._prune_at = 10_000

    @property
    def start(self) -> datetime | None:
        """Where this run's request window starts, or None on the first run."""
        return None if self._newest is None else self._newest - self.lag

    def new_rows(self, table: pa.Table) -> pa.Table:
        """The rows of a page not loaded before; remembers them for `commit`."""
        if self._newest is not None and table.num_rows:
            stamps = table.column(self.column)
            table = table.filter(pc.fill_null(pc.greater_equal(stamps, pa.scalar(self.start, stamps.type)), True))
            if self._recent and table.num_rows:
                # Row by row in Python, so only on what the window kept: a listing read whole
                # (Chatman's campaign events) is mostly rows from before it.
                pairs = zip(table.column(self.key).to_pylist(), table.column(self.column).to_pylist())
                seen = [self._recent.get(str(k)) == _iso(s) for k, s in pairs]
                table = table.filter(pc.invert(pa.array(seen, pa.bool_())))
        self.remember(table)
        return table

    def commit(self) -> None:
        """The scan is over: its newest timestamp becomes the cursor."""
        if self._seen_newest is None:
            return
        floor = self._seen_newest - self.lag
        recent = {k: v for k, v in {**self._recent, **self._seen_recent}.items() if _parse(v) >= floor}
        self.state["newest"] = _iso(self._seen_newest)
        self.state["recent"] = recent

    def remember(self, table: pa.Table) -> None:
        """Take these rows as loaded (or known): the next run starts after them."""
        if not table.num_rows:
            return
        newest = pc.max(table.column(self.column)).as_py()
        if newest is None:
            return
        if self._seen_newest is None or newest > self._seen_newest:
            self._seen_newest = newest
        # Only rows that may still fall in the next run's lag window are worth keeping.
        floor = self._seen_newest - self.lag
        stamps = table.column(self.column)
        near = table.filter(pc.fill_null(pc.greater_equal(stamps, pa.scalar(floor, stamps.type)), False))
        self._seen_recent.update(zip(near.column(self.key).cast(pa.string()).to_pylist(),
                                     _iso_texts(near.column(self.column))))
        if len(self._seen_recent) > self._prune_at:  # a long scan: forget what fell behind
            self._seen_recent = {k: v for k, v in self._seen_recent.items() if _parse(v) >= floor}
            self._prune_at = max(10_000, 2 * len(self._seen_recent))


class NewRows(Protocol):
    """What `resources.tables` asks of a cursor."""

    def new_rows(self, table: pa.Table) -> pa.Table: ...

    def commit(self) -> None: ...


class Watched:
    """A cursor that judges a listing, and cursors on other columns that watch it: they
    learn how far the listing went without filtering it (Chatman's mode=all scan, judged on
    modified_at, moves the created_at cursor its mode=new windows start from)."""

    def __init__(self, judge: Cursor, *watching: Cursor) -> None:
        self.judge = judge
        self.watching = watching

    def new_rows(self, table: pa.Table) -> pa.Table:
        for cursor in self.watching:
            cursor.remember(table)
        return self.judge.new_rows(table)

    def commit(self) -> None:
        for cursor in (self.judge, *self.watching):
            cursor.commit()


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(timezone.utc).isoformat()


def _iso_texts(stamps: pa.ChunkedArray) -> list[str]:
    """`_iso` of each (non-null) timestamp, formatted by arrow: a full scan remembers tens of
    thousands of rows, and a Python datetime for each cost more than the rest of the cursor."""
    if stamps.type != pa.timestamp("us", tz="UTC"):  # what records.py makes of every timestamp
        return [_iso(stamp) for stamp in stamps.to_pylist()]
    text = pc.strftime(stamps, format="%Y-%m-%dT%H:%M:%S")  # seconds with 6 decimals
    text = pc.replace_substring_regex(text, pattern=r"\.000000$", replacement="")  # as isoformat
    return pc.binary_join_element_wise(text, "+00:00", "").to_pylist()


def _parse(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def scan_cursor(state: dict[str, Any], lag_seconds: int, name: str = "updated") -> Cursor:
    """A client-side cursor on updated_at for full scans, whose window reaches back over the
    whole previous scan: a record changed after the scan had read its page carries a stamp
    older than the newest one that scan saw, and must still be caught. The scan's length is
    kept in `state["scan_seconds"]` by the caller."""
    lag = timedelta(seconds=lag_seconds + float(state.get("scan_seconds", 0.0)))
    return Cursor(state.setdefault(name, {}), "id", "updated_at", lag)

