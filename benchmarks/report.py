"""What `crmsync bench` shows: progress lines on stderr, the figures as a Rich table."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table

stderr = Console(stderr=True)
stdout = Console()


def progress_printer() -> Callable[[str], None]:
    """One timestamped line per step on stderr, so a long run never looks hung."""
    started = time.monotonic()

    def say(message: str) -> None:
        elapsed = time.monotonic() - started
        stderr.print(f"[dim]{int(elapsed // 60):3d}:{int(elapsed % 60):02d}[/] {message}", highlight=False,
                     soft_wrap=True)

    return say


def bench_table(document: dict[str, Any]) -> None:
    machine = document["machine"]
    table = Table(title=f"crmsync bench at {document['contacts']:,} contacts",
                  caption=f"{machine['cores']} cores, Python {machine['python']}, dlt {machine['dlt']}, "
                          f"DuckDB {machine['duckdb']}; {machine['sandbox']}")
    for column, justify in (("figure", "left"), ("value", "right"), ("unit", "left"), ("target", "left"),
                            ("met", "center"), ("note", "left")):
        table.add_column(column, justify=justify, overflow="fold")
    for figure in document["figures"]:
        met = {True: "[green]yes[/]", False: "[red]no[/]", None: ""}[figure["met"]]
        table.add_row(figure["name"], f"{figure['value']:,.3f}".rstrip("0").rstrip("."), figure["unit"],
                      figure["target"] or "", met, figure["note"])
    stdout.print(table)
