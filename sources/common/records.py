"""Provider JSON records -> pyarrow tables with stable column types.

Each resource declares its known columns (`Column`); their types never change between
pages or runs, so DuckDB never meets a type it cannot load. A value that does not fit its
column (a type change, a malformed timestamp) becomes null and is counted as a problem; a
field nobody declared lands as a new text column (JSON text when it is nested). One page
becomes one table in one pass in C (the records as one struct array of the declared columns),
falling back to column by column, and value by value only for a column that fails, when a
page holds a value its column cannot take.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

TIMESTAMP = pa.timestamp("us", tz="UTC")
JSON_TEXT = "json"  # a column kept as JSON text
# What a value that does not fit its column raises (orjson's encode error is a TypeError).
_UNFIT = (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError)


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
        self._struct = _record_struct(self.columns)

    def table(self, records: list[dict[str, Any]]) -> pa.Table:
        self.rows_read += len(records)
        if self.on_rows is not None:
            self.on_rows(self.rows_read)
        arrays = self._declared(records)
        for key in self._unknown_keys(records):
            arrays[self._free_name(snake(key), arrays)] = pa.array(
                [_text(r.get(key)) for r in records], pa.string())
        for root, key in self._unknown_nested_keys(records):
            arrays[self._free_name(f"{snake(root)}__{snake(key)}", arrays)] = pa.array(
                [_text(_dig(r, (root, key))) for r in records], pa.string())
        return pa.table(arrays)

    def _declared(self, records: list[dict[str, Any]]) -> dict[str, pa.Array]:
        """The declared columns: read in one pass as a struct array when every value fits
        (a dirty page falls back to reading each column apart, to find which values fail)."""
        fields = self._struct_fields(records)
        arrays: dict[str, pa.Array] = {}
        for column in self.columns:
            raw = fields.get(column.path)
            if raw is not None:
                try:
                    arrays[column.name] = _finish(column, raw)
                    continue
                except _UNFIT:
                    pass
            arrays[column.name] = self._array(column, _values(records, column.path))
        return arrays

    def _struct_fields(self, records: list[dict[str, Any]]) -> dict[tuple[str, ...], pa.Array]:
        if self._struct is None:
            return {}
        try:
            whole = pa.array(records, self._struct)
        except _UNFIT:
            return {}
        fields: dict[tuple[str, ...], pa.Array] = {}
        for field_, values in zip(self._struct, whole.flatten()):
            if pa.types.is_struct(field_.type) and field_.name in self._flattened:
                for inner, inner_values in zip(field_.type, values.flatten()):
                    fields[(field_.name, inner.name)] = inner_values
            else:
                fields[(field_.name,)] = values
        return fields

    def _unknown_keys(self, records: list[dict[str, Any]]) -> list[str]:
        if not set().union(*records) - self._known_roots:  # the common page: one pass in C
            return []
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
            objects = [nested for r in records if isinstance(nested := r.get(root), dict)]
            if not set().union(*objects) - declared:
                continue
            for nested in objects:
                for key in nested:
                    if key not in declared:
                        keys[(root, key)] = None
        return list(keys)

    def _array(self, column: Column, values: list[Any]) -> pa.Array:
        try:
            return _convert(column, values)
        except _UNFIT:
            pass
        out = []
        for value in values:
            try:
                out.append(_convert(column, [value])[0].as_py())
            except _UNFIT:
                self.problems[f"{column.name}: unreadable value"] += 1
                out.append(None)
        return pa.array(out, _arrow_type(column))


def _convert(column: Column, values: list[Any]) -> pa.Array:
    if column.type == JSON_TEXT:
        return pa.array([_text(v) for v in values], pa.string())
    if column.type == pa.string() and not column.time_format:
        return pa.array([v if v is None or isinstance(v, str) else _text(v) for v in values], pa.string())
    return _finish(column, pa.array(values, _input_type(column)))


def _finish(column: Column, raw: pa.Array) -> pa.Array:
    """A column read as its `_input_type` -> the column's own type."""
    if column.time_format == "iso":
        return raw.cast(TIMESTAMP)
    if column.time_format == "sql":
        return pc.assume_timezone(pc.strptime(raw, format="%Y-%m-%d %H:%M:%S", unit="us"), "UTC")
    if column.time_format == "epoch":
        return pc.multiply(raw, 1_000_000).cast(pa.timestamp("us")).cast(TIMESTAMP)
    return raw


def _input_type(column: Column) -> pa.DataType:
    """What the API sends for a column: timestamps as text (epoch: integer seconds)."""
    if column.time_format == "epoch":
        return pa.int64()
    return pa.string() if column.time_format else column.type


def _record_struct(columns: Sequence[Column]) -> pa.StructType | None:
    """The struct type a whole record converts to: the declared columns except JSON text (a
    path into an object becomes a nested struct). None when a key is both a column and an
    object spread into columns: such records are read column by column."""
    leaves: dict[str, pa.DataType] = {}
    nested: dict[str, dict[str, pa.DataType]] = {}
    for column in columns:
        if column.type == JSON_TEXT:
            continue
        if len(column.path) == 1:
            leaves[column.path[0]] = _input_type(column)
        else:
            nested.setdefault(column.path[0], {})[column.path[1]] = _input_type(column)
    if leaves.keys() & nested.keys():
        return None
    fields = [pa.field(k, t) for k, t in leaves.items()]
    fields += [pa.field(root, pa.struct(list(inner.items()))) for root, inner in nested.items()]
    return pa.struct(fields) if fields else None


def _arrow_type(column: Column) -> pa.DataType:
    if column.type == JSON_TEXT:
        return pa.string()
    return TIMESTAMP if column.time_format else column.type


def _values(records: list[dict[str, Any]], path: tuple[str, ...]) -> list[Any]:
    return [_dig(r, path) for r in records]


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
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS).decode()


_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")


def snake(name: str) -> str:
    """camelCase and odd keys -> snake_case column names."""
    return re.sub(r"[^0-9a-zA-Z_]+", "_", _CAMEL.sub(r"_\1", name)).strip("_").lower() or "field"
