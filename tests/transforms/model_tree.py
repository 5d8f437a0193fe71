"""Tiny model trees and raw tables in temporary folders, for the runner and segment tests."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from textwrap import dedent

from crmsync.kernel.warehouse import Warehouse, connect, open_warehouse, relations


def write_tree(root: Path, files: dict[str, str]) -> Path:
    """Write `files` (path relative to root -> text, dedented) under root."""
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dedent(text).lstrip())
    return root


def load_raw(warehouse: Warehouse, table: str, columns: str, rows: Iterable[tuple]) -> None:
    """(Re)create `schema.table` with `columns` ("id VARCHAR, n INTEGER") holding `rows`."""
    schema = table.split(".")[0]
    with connect(warehouse) as con:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        con.execute(f"CREATE OR REPLACE TABLE {table} ({columns})")
        rows = list(rows)
        if rows:
            con.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)


def query(warehouse: Warehouse, sql: str, params: list | None = None) -> list[tuple]:
    with open_warehouse(warehouse, read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def kind_of(warehouse: Warehouse, relation: str) -> str | None:
    """"table", "view" or None: what the warehouse holds under `schema.name`."""
    with open_warehouse(warehouse, read_only=True) as con:
        return relations(con).get(relation.lower())
