"""What the commands show a person: progress on stderr, summary tables on stdout."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from pipelines.sync import ProviderResult

stderr = Console(stderr=True)
stdout = Console()


@contextmanager
def sync_progress(enabled: bool) -> Iterator[object]:
    """A live line per provider and table with the rows read so far; a no-op when disabled."""
    if not enabled:
        yield None
        return
    tasks: dict[tuple[str, str], int] = {}
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.fields[rows]:>10,} rows"),
                  TimeElapsedColumn(), console=stderr, transient=True) as progress:

        def report(provider: str, table: str, rows: int) -> None:
            key = (provider, table)
            if key not in tasks:
                tasks[key] = progress.add_task(f"{provider}.{table}", total=None, rows=0)
            progress.update(tasks[key], rows=rows)

        yield report


def sync_summary(results: dict[str, ProviderResult], warehouse: Path) -> None:
    """One line per provider and table: rows loaded, rows newly marked deleted, problems."""
    table = Table(title=f"crmsync sync → {warehouse}")
    for column, justify in (("provider", "left"), ("table", "left"), ("loaded", "right"),
                            ("deleted", "right"), ("problems", "right")):
        table.add_column(column, justify=justify)
    for provider, result in results.items():
        status = (f"{provider}\n[green]ok[/] {result.seconds:.1f}s, {result.requests:,} requests"
                  if result.status == "ok" else f"{provider}\n[red]failed[/]")
        names = sorted(set(result.rows) | set(result.deleted) | set(result.problems)) or ["-"]
        for position, name in enumerate(names):
            problems = sum(result.problems.get(name, {}).values())
            table.add_row(status if position == 0 else "", name, f"{result.rows.get(name, 0):,}",
                          f"{result.deleted.get(name, 0):,}" if result.deleted.get(name) else "",
                          f"{problems:,}" if problems else "",
                          end_section=position == len(names) - 1)
        if result.error:
            table.add_row("", f"[red]{result.error}[/]", "", "", "", end_section=True)
    stdout.print(table)
    stdout.print("Open the warehouse read-only while nothing writes to it:")
    stdout.print(f"  .venv/bin/python -c \"import duckdb; duckdb.connect('{warehouse}', "
                 f"read_only=True).sql('SHOW ALL TABLES').show()\"", soft_wrap=True)
