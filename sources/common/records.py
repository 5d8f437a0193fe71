"""Provider JSON records -> pyarrow tables with stable column types.

Each resource declares its known columns (`Column`); their types never change between
pages or runs, so DuckDB never meets a type it cannot load. A value that does not fit its
column (a type change, a malformed timestamp) becomes null and is counted as a problem; a
field nobody declared lands as a new text column (JSON text when it is nested). One page
becomes one table, converted column by column in C, falling back to value by value only for
a column that fails.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

TIMESTAMP = pa.timestamp("us", tz="UTC")
JSON_TEXT = "json"  # a column kept as JSON text


@dataclass(frozen=True)
class Column:
    """A declared column: `source` is the path of keys in the record (default: the name)."""

    name: str
    type: pa.DataType | str
    source: tuple[str, ...] = ()
    time_format: str | None = None  # "iso", "sql" (YYYY-MM-DD HH:MM:SS), "epoch" (seconds)

    @property
    def path(self) -> tuple[str, ...]:
        return self.source or (self.name,)


@dataclass
class Shape:
    """The columns of one resource and the problems met while converting its pages."""

    columns: Sequence[Column]
    problems: Counter = field(default_factory=Counter)
    rows_read: int = 0
    on_rows: Callable[[int], None] | None = None  # progress: rows read so far

    def __post_init__(self) -> None:
        self._known_roots = {c.path[0] for c in self.columns}
        # Objects whose keys are spread into columns: a key nobody declared gets its own.
        self._flattened: dict[str, set[str]] = {}
        for column in self.columns:
            if len(column.path) == 2:
                self._flattened.setdefault(column.path[0], set()).add(column.path[1])

    def table(self, records: list[dict[str, Any]]) -> pa.Table:
        self.rows_read += len(records)
        if self.on_rows is not None:
            self.on_rows(self.rows_read)
        arrays: dict[str, pa.Array] = {}
        for column in self.columns:
            arrays[column.name] = self._array(column, [_dig(r, column.path) for r in records])
        for key in self._unknown_keys(records):
            arrays[self._free_name(snake(key), arrays)] = pa.array(
                [_text(r.get(key)) for r in records], pa.string())
        for root, key in self._unknown_nested_keys(records):
            arrays[self._free_name(f"{snake(root)}__{snake(key)}", arrays)] = pa.array(
                [_text(_dig(r, (root, key))) for r in records], pa.string())
        return pa.table(arrays)

    def _unknown_keys(self, records: list[dict[str, Any]]) -> list[str]:
        keys: dict[str, None] = {}
        for record in records:
            for key in record:
                if key not in self._known_roots:
                    keys[key] = None
        return list(keys)

    @staticmethod
    def _free_name(name: str, taken: dict[str, pa.Array]) -> str:
        """An undeclared field never overwrites a declared column of the same name."""
        while name in taken:
            name += "_extra"
        return name

    def _unknown_nested_keys(self, records: list[dict[str, Any]]) -> list[tuple[str, str]]:
        keys: dict[tuple[str, str], None] = {}
        for root, declared in self._flattened.items():
            for record in records:
                nested = record.get(root)
                if isinstance(nested, dict):
                    for key in nested:
                        if key not in declared:
                            keys[(root, key)] = None
        return list(keys)

    def _array(self, column: Column, values: list[Any]) -> pa.Array:
        try:
            return _convert(column, values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
            pass
        out = []
        for value in values:
            try:
                out.append(_convert(column, [value])[0].as_py())
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
                self.problems[f"{column.name}: unreadable value"] += 1
                out.append(None)
        return pa.array(out, _arrow_type(column))


def _convert(column: Column, values: list[Any]) -> pa.Array:
    if column.type == JSON_TEXT:
        return pa.array([_text(v) for v in values], pa.string())
    if column.time_format == "iso":
        return pa.array(values, pa.string()).cast(TIMESTAMP)
    if column.time_format == "sql":
        parsed = pc.strptime(pa.array(values, pa.string()), format="%Y-%m-%d %H:%M:%S", unit="us")
        return pc.assume_timezone(parsed, "UTC")
    if column.time_format == "epoch":
        seconds = pa.array(values, pa.int64())
        return pc.multiply(seconds, 1_000_000).cast(pa.timestamp("us")).cast(TIMESTAMP)
    if column.type == pa.string():
        return pa.array([v if v is None or isinstance(v, str) else _text(v) for v in values], pa.string())
    return pa.array(values, column.type)


def _arrow_type(column: Column) -> pa.DataType:
    if column.type == JSON_TEXT:
        return pa.string()
    return TIMESTAMP if column.time_format else column.type


def _dig(record: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = record
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")


def snake(name: str) -> str:
    """camelCase and odd keys -> snake_case column names."""
    return re.sub(r"[^0-9a-zA-Z_]+", "_", _CAMEL.sub(r"_\1", name)).strip("_").lower() or "field"
