"""`crmsync sql`: a query on the warehouse, read-only, or DuckDB's own shell attached to it.

Either kind of warehouse is opened the one way crmsync opens it (kernel/warehouse.py), so an
analyst never types the lake's ATTACH. The shell is the `duckdb` program of the duckdb-cli
wheel (the same DuckDB version as the library); for a lake it starts from an init file (mode
0600: the catalog's password may be in the ATTACH) that attaches the lake read-only.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb
from rich.console import Console
from rich.table import Table

from crmsync.kernel.errors import UserError
from crmsync.kernel.lake import Lake, attach_statements
from crmsync.kernel.warehouse import Warehouse, first_line, open_warehouse

FORMATS = ("table", "json", "csv")


def run_query(warehouse: Warehouse, query: str, output: str = "table") -> None:
    """Run `query` on a read-only connection and print its rows as a table, JSON or CSV."""
    with open_warehouse(warehouse, read_only=True) as con:
        try:
            cursor = con.execute(query)
        except duckdb.Error as error:
            raise UserError(f"sql: {first_line(error)}") from None
        names = [d[0] for d in cursor.description] if cursor.description else []
        rows = cursor.fetchall() if names else []
    if output == "json":
        sys.stdout.write(json.dumps([dict(zip(names, row)) for row in rows], indent=2, default=str) + "\n")
    elif output == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(names)
        writer.writerows(rows)
    else:
        table = Table(*names)
        for row in rows:
            table.add_row(*("" if v is None else str(v) for v in row))
        Console().print(table)


def shell_command(warehouse: Warehouse, init_file: Path) -> list[str]:
    """The `duckdb` command line opening the warehouse read-only (a lake: through `init_file`)."""
    program = str(Path(sys.executable).parent / "duckdb")
    if isinstance(warehouse, Lake):
        init_file.write_text("".join(f"{statement};\n" for statement in attach_statements(warehouse, True)))
        return [program, "-init", str(init_file)]
    if not warehouse.exists():
        raise UserError(f"no warehouse at {warehouse}; run crmsync sync first")
    return [program, "-readonly", str(warehouse)]


def open_shell(warehouse: Warehouse) -> int:
    """DuckDB's interactive shell on the warehouse; its exit code."""
    with tempfile.TemporaryDirectory(prefix="crmsync-sql-") as folder:
        init_file = Path(folder) / "attach.sql"
        init_file.touch(mode=0o600)
        command = shell_command(warehouse, init_file)
        try:
            return subprocess.call(command, env={**os.environ, "HOME": os.environ.get("HOME", folder)})
        except OSError as error:
            raise UserError(f"sql: cannot start DuckDB's shell {command[0]} ({error.strerror})") from None
