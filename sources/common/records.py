"""Provider JSON records -> pyarrow tables with stable column types.

Each resource declares its known columns (`Column`); their types never change between
pages or runs, so DuckDB never meets a type it cannot load. A value that does not fit its
column (a type change, a malformed timestamp, a string where a list belongs) becomes null and
is counted as a problem; a text column keeps a number, boolean, object or list as its JSON
text, counted too. A field nobody declared lands as a new text column (JSON text when it is
nested). `Shape.rows` sets aside (`SetAside`, kept in the warehouse's ops.quarantine by the
sync) what cannot load as it came: a record that is not a JSON object or has no key, and a
value past `max_value_bytes` (text is cut to the bound, JSON text or a list loads as null: cut,
it would no longer parse). One page becomes one table in one pass in C (the records as one
struct array of the declared columns), falling back to column by column, and value by value
only for a column that fails, when a page holds a value its column cannot take.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

TIMESTAMP = pa.timestamp("us", tz="UTC")
JSON_TEXT = "json"  # a column kept as JSON text
# A value loaded whole is held several times over on its way in (arrow, parquet, DuckDB's
# load, which runs under `warehouse.memory_limit`): one 60 MB value ran the load out of memory.
MAX_VALUE_BYTES = 1_048_576
RAW_BYTES = 10_000  # how much of a set-aside record's JSON text is kept
# Set-aside records kept per reason and table in one run: the count in `problems` is whole,
# the examples are enough to see what went wrong (a provider sending every record broken
# would otherwise hold RAW_BYTES per record in memory).
KEEP_PER_REASON = 100
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


@dataclass(frozen=True)
class SetAside:
    """A record not loaded (`loaded` false), or loaded with a value cut or nulled: why, its key
    when it has one, and the start of its JSON text (`raw_bytes` long in full)."""

    reason: str
    key: str | None
    loaded: bool
    raw: str
    raw_bytes: int


@dataclass
class Shape:
    """The columns of one resource and the problems met while converting its pages."""

    columns: Sequence[Column]
    problems: Counter = field(default_factory=Counter)
    rows_read: int = 0
    on_rows: Callable[[int], None] | None = None  # progress: rows read so far
    max_value_bytes: int = MAX_VALUE_BYTES
    set_aside: list[SetAside] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._known_roots = {c.path[0] for c in self.columns}
        # Objects whose keys are spread into columns: a key nobody declared gets its own.
        self._flattened: dict[str, set[str]] = {}
        for column in self.columns:
            if len(column.path) == 2:
                self._flattened.setdefault(column.path[0], set()).add(column.path[1])
        self._struct = _record_struct(self.columns)
        self._json_columns = {c.name for c in self.columns if c.type == JSON_TEXT}

    def objects(self, records: list[Any]) -> list[dict[str, Any]]:
        """The records that are JSON objects; anything else in a page (a string, a number, a
        list, null) is set aside, and the rest of the page goes on."""
        if set(map(type, records)) <= {dict}:  # the common page: one pass in C
            return records
        kept = []
        for record in records:
            if isinstance(record, dict):
                kept.append(record)
            else:
                self.put_aside(record, "record: not an object, not loaded")
        return kept

    def put_aside(self, record: Any, reason: str, key: str | None = None, loaded: bool = False) -> None:
        """Count `reason` and keep the start of the record for an analyst."""
        self.problems[reason] += 1
        if self.problems[reason] > KEEP_PER_REASON:
            return
        text = orjson.dumps(record, default=str, option=orjson.OPT_NON_STR_KEYS)
        self.set_aside.append(SetAside(reason, key, loaded, text[:RAW_BYTES].decode(errors="ignore"), len(text)))

    def rows(self, page: list[Any], key: str) -> tuple[pa.Table, list[dict[str, Any]]]:
        """The rows of a page that can load, and their records: what is not an object and rows
        without a key set aside (they cannot be merged), a key twice kept once (`one_per_key`),
        then values past `max_value_bytes` cut."""
        records = self.objects(page)
        table = self.table(records)
        keyed = pc.is_valid(table.column(key))
        if pc.all(keyed).as_py() is False:  # not True (every row keyed) nor None (no row)
            for row in pc.indices_nonzero(pc.invert(keyed)).to_pylist():
                self.put_aside(records[row], f"{key}: missing, record not loaded")
            records = [record for record, has_key in zip(records, keyed.to_pylist()) if has_key]
            table = table.filter(keyed)
        table, kept = self.one_per_key(table, key)
        if kept is not None:
            records = [records[row] for row in kept.to_pylist()]
        return self._bounded(table, records, key), records

    def one_per_key(self, table: pa.Table, key: str) -> tuple[pa.Table, pa.Array | None]:
        """One row per key, the last (the newest the provider answered; dlt's merge would keep
        any one of them), each other counted; and which rows were kept (None: every row)."""
        keys = table.column(key)
        if len(pc.unique(keys)) == table.num_rows:  # the common page: one hash pass in C
            return table, None
        rows = pa.table({"key": keys, "row": pa.array(range(table.num_rows), pa.int64())})
        last = rows.group_by("key", use_threads=False).aggregate([("row", "max")])["row_max"]
        kept = pc.take(last, pc.sort_indices(last))  # in the order they came
        self.problems[f"{key}: repeated, the last one kept"] += table.num_rows - len(kept)
        return table.take(kept), kept

    def table(self, records: list[dict[str, Any]]) -> pa.Table:
        """One page of JSON objects (see `objects`) as a table."""
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
        for column in self.columns:
            if isinstance(column.type, pa.ListType):
                arrays[column.name] = self._no_strings(column, arrays[column.name], records)
        return arrays

    def _no_strings(self, column: Column, array: pa.Array, records: list[dict[str, Any]]) -> pa.Array:
        """pyarrow reads a string into a list column as its characters ("ab" -> ["a", "b"]):
        a string there loads as null, counted."""
        values = _values(records, column.path)
        if str not in set(map(type, values)):  # the common page: one pass in C
            return array
        strings = pa.array([isinstance(v, str) for v in values], pa.bool_())
        self.problems[f"{column.name}: not a list"] += pc.sum(strings).as_py()
        return pc.if_else(strings, pa.scalar(None, array.type), array)

    def _bounded(self, table: pa.Table, records: list[dict[str, Any]], key: str) -> pa.Table:
        """Values past `max_value_bytes` cut (text) or null (JSON text, lists), each set aside
        with its record: the load holds every value whole several times over."""
        # The size of the buffers (at least that of the values) is known without reading them:
        # a page or column smaller than the bound holds no value past it.
        if table.get_total_buffer_size() <= self.max_value_bytes:
            return table
        for index, name in enumerate(table.column_names):
            column = table.column(index)
            if not _sized(column.type) or column.get_total_buffer_size() <= self.max_value_bytes:
                continue
            over = pc.greater(_value_bytes(column), self.max_value_bytes)
            rows = pc.indices_nonzero(pc.fill_null(over, False)).to_pylist()
            if not rows:
                continue
            cut = pa.types.is_string(column.type) and name not in self._json_columns
            replaced: list[str | None] = [None] * table.num_rows
            for row in rows:
                if cut:
                    replaced[row] = _cut(column[row].as_py(), self.max_value_bytes)
                self.put_aside(records[row], f"{name}: longer than {self.max_value_bytes} bytes, "
                                             f"{'cut' if cut else 'loaded as null'}",
                               str(table.column(key)[row].as_py()), loaded=True)
            fill = pa.array(replaced, column.type) if cut else pa.scalar(None, column.type)
            table = table.set_column(index, name, pc.if_else(over, fill, column))
        return table

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
        if column.type == pa.string() and not column.time_format:
            return self._text_array(column, values)
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

    def _text_array(self, column: Column, values: list[Any]) -> pa.Array:
        """A text column: a number, boolean, object or list kept as its JSON text (nothing is
        lost), counted as not text."""
        wrong = sum(v is not None and not isinstance(v, str) for v in values)
        if wrong:
            self.problems[f"{column.name}: not text, kept as JSON text"] += wrong
        return pa.array([_text(v) for v in values], pa.string())


def _convert(column: Column, values: list[Any]) -> pa.Array:
    if column.type == JSON_TEXT:
        return pa.array([_text(v) for v in values], pa.string())
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
    if len(path) == 1:  # a top-level key: read in C
        return list(map(dict.get, records, repeat(path[0])))
    return [_dig(r, path) for r in records]


def _sized(type_: pa.DataType) -> bool:
    """Whether a value of the type can be of any size (a number or a timestamp cannot)."""
    return pa.types.is_string(type_) or pa.types.is_list(type_)


def _value_bytes(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """The size of each value: text in bytes, a list as its JSON text would be."""
    if pa.types.is_string(column.type):
        return pc.binary_length(column)
    return pa.chunked_array([pa.array([len(orjson.dumps(v)) for v in column.to_pylist()], pa.int64())])


def _cut(text: str, size: int) -> str:
    """The first `size` bytes of `text`, never half a character."""
    return text.encode()[:size].decode(errors="ignore")


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
