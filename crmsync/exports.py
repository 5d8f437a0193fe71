"""A segment's members out of crmsync: as JSON or CSV on stdout (`segments show --json|--csv`)
and as a CSV or Parquet file (`segments export`), every column whole (phones and emails are
never cut, as a terminal table may cut them)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, TextIO

import pyarrow as pa
import pyarrow.parquet as pq

from crmsync.kernel.errors import UserError

FORMATS = ("csv", "parquet")


def members_document(name: str, columns: list[str], rows: list[tuple], total: int) -> dict[str, Any]:
    """`segments show --json`: the members shown, and how many the segment has."""
    return {"segment": name, "total": total, "members": [dict(zip(columns, row)) for row in rows]}


def write_csv(columns: list[str], rows: list[tuple], stream: TextIO) -> None:
    """A header line, then a line per member; a list (providers) as its items joined by `|`."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["|".join(map(str, v)) if isinstance(v, list) else "" if v is None else v for v in row])


def write_members(columns: list[str], rows: list[tuple], out: Path, file_format: str) -> None:
    """The members into `out` as `file_format` (csv or parquet), replacing the file."""
    if file_format not in FORMATS:
        raise UserError(f"--format {file_format}: not one of {', '.join(FORMATS)}")
    if not out.parent.is_dir():
        raise UserError(f"--out {out}: {out.parent} is not an existing folder")
    if file_format == "csv":
        with out.open("w", newline="", encoding="utf-8") as stream:
            write_csv(columns, rows, stream)
        return
    pq.write_table(pa.table({c: [row[i] for row in rows] for i, c in enumerate(columns)}), out)
