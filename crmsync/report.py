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
    table = Table(title=f"crmsync sync → {warehouse}")
    for column in ("provider", "status", "rows loaded", "marked deleted", "problems", "requests", "seconds"):
        table.add_column(column, justify="right" if column in ("requests", "seconds") else "left")
    for provider, result in results.items():
        rows = "\n".join(f"{t}: {n:,}" for t, n in sorted(result.rows.items())) or "0"
        deleted = "\n".join(f"{t}: {n:,}" for t, n in sorted(result.deleted.items())) or "-"
        problems = "\n".join(f"{t}: {sum(p.values()):,}" for t, p in sorted(result.problems.items())) or "-"
        status = "[green]ok[/]" if result.status == "ok" else f"[red]failed[/]\n{result.error}"
        table.add_row(provider, status, rows, deleted, problems, f"{result.requests:,}", f"{result.seconds:.1f}")
    stdout.print(table)
    stdout.print(f"Open the warehouse: .venv/bin/python -c \"import duckdb; "
                 f"duckdb.connect('{warehouse}', read_only=True).sql('SHOW ALL TABLES').show()\"")
