"""Hostile records through the shared conversion (`tables()`): what does not fit its column, a
key twice in a page, records that cannot be read and values past the size bound."""

from __future__ import annotations

import json

import pyarrow as pa

from crmsync.sources.common.records import JSON_TEXT, RAW_BYTES, Column, Shape
from crmsync.sources.common.resources import tables

COLUMNS = (
    Column("id", pa.string()),
    Column("name", pa.string(), ("profile", "name")),
    Column("note", pa.string()),
    Column("tags", pa.list_(pa.string())),
    Column("extra", JSON_TEXT),
)


def loaded(pages: list[list], shape: Shape, batch_rows: int = 0) -> list[dict]:
    return [row for table in tables(pages, shape, "id", batch_rows=batch_rows) for row in table.to_pylist()]


def test_a_string_where_a_list_belongs_loads_as_null_and_is_counted() -> None:
    shape = Shape(COLUMNS)
    rows = loaded([[{"id": "a", "tags": ["vip", "x"]}, {"id": "b", "tags": "notalist"}, {"id": "c", "tags": ""}]],
                  shape)
    assert [r["tags"] for r in rows] == [["vip", "x"], None, None]
    assert shape.problems == {"tags: not a list": 2}


def test_a_text_column_keeps_other_json_as_its_text_and_counts_it() -> None:
    shape = Shape(COLUMNS)
    rows = loaded([[{"id": "a", "profile": {"name": {"first": "Ann"}}, "note": 42},
                    {"id": "b", "profile": {"name": "Bo"}, "note": ["x"]},
                    {"id": "c", "note": "fine", "extra": {"any": ["json"]}}]], shape)
    assert [(r["name"], r["note"]) for r in rows] == [('{"first":"Ann"}', "42"), ("Bo", '["x"]'), (None, "fine")]
    assert shape.problems == {"name: not text, kept as JSON text": 1, "note: not text, kept as JSON text": 2}


def test_a_key_repeated_in_a_page_or_a_batch_loads_once_the_last_one() -> None:
    shape = Shape(COLUMNS)
    page = [{"id": "a", "note": "first"}, {"id": "b"}, {"id": "a", "note": "second"}, {"id": "a", "note": "last"}]
    assert [(r["id"], r["note"]) for r in loaded([page], shape)] == [("b", None), ("a", "last")]
    assert shape.problems == {"id: repeated, the last one kept": 2}

    batched = Shape(COLUMNS)
    pages = [[{"id": "a", "note": "old"}, {"id": "b"}], [{"id": "a", "note": "new"}]]
    assert [(r["id"], r["note"]) for r in loaded(pages, batched, batch_rows=10)] == [("b", None), ("a", "new")]
    assert batched.problems == {"id: repeated, the last one kept": 1}


def test_records_that_cannot_be_read_are_set_aside_and_the_page_goes_on() -> None:
    shape = Shape(COLUMNS)
    page = ["junk", {"id": "a"}, None, [1, 2], 7, {"note": "who am I"}, {"id": None, "note": "nor I"}, {"id": "b"}]
    assert [r["id"] for r in loaded([page], shape)] == ["a", "b"]
    assert shape.problems == {"record: not an object, not loaded": 4, "id: missing, record not loaded": 2}
    kept = [(s.reason, s.key, s.loaded, json.loads(s.raw)) for s in shape.set_aside]
    assert kept == [("record: not an object, not loaded", None, False, "junk"),
                    ("record: not an object, not loaded", None, False, None),
                    ("record: not an object, not loaded", None, False, [1, 2]),
                    ("record: not an object, not loaded", None, False, 7),
                    ("id: missing, record not loaded", None, False, {"note": "who am I"}),
                    ("id: missing, record not loaded", None, False, {"id": None, "note": "nor I"})]


def test_a_value_past_the_bound_is_cut_or_nulled_counted_and_set_aside() -> None:
    shape = Shape(COLUMNS, max_value_bytes=1000)
    long_note = "é" * 800 + "x" * 12_000  # 1,600 bytes of two-byte characters first: a cut never halves one
    rows = loaded([[{"id": "a", "note": long_note, "extra": {"big": "y" * 2000}, "tags": ["t" * 600] * 3},
                    {"id": "b", "note": "short", "extra": {"small": 1}, "tags": ["ok"]}]], shape)
    assert rows[0]["note"] == "é" * 500 and rows[0]["extra"] is None and rows[0]["tags"] is None
    assert rows[1] == {"id": "b", "name": None, "note": "short", "tags": ["ok"], "extra": '{"small":1}'}
    assert shape.problems == {"note: longer than 1000 bytes, cut": 1,
                              "tags: longer than 1000 bytes, loaded as null": 1,
                              "extra: longer than 1000 bytes, loaded as null": 1}
    assert {(s.key, s.loaded) for s in shape.set_aside} == {("a", True)}
    assert all(len(s.raw.encode()) <= RAW_BYTES < s.raw_bytes for s in shape.set_aside)
