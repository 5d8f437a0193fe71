"""What one provider's sync run gathers besides the data: clients, full scans, problems."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from crmsync.sources.common.http import ApiClient
from crmsync.sources.common.records import Column, Shape
from crmsync.sources.common.scans import FullScans


@dataclass
class SyncRun:
    warehouse: Path
    scans: FullScans = field(default_factory=FullScans)
    shapes: dict[str, Shape] = field(default_factory=dict)
    clients: list[ApiClient] = field(default_factory=list)
    on_rows: Callable[[str, int], None] | None = None  # progress: (table, rows read so far)

    def shape(self, table: str, columns: tuple[Column, ...]) -> Shape:
        """The one Shape of `table` in this run (its problems add up across resources)."""
        if table not in self.shapes:
            shape = Shape(columns)
            if self.on_rows is not None:
                report = self.on_rows
                shape.on_rows = lambda rows: report(table, rows)
            self.shapes[table] = shape
        return self.shapes[table]

    def client(self, api: ApiClient) -> ApiClient:
        self.clients.append(api)
        return api

    def problems(self) -> dict[str, dict[str, int]]:
        return {table: dict(shape.problems) for table, shape in self.shapes.items() if shape.problems}

    def requests(self) -> Counter:
        return Counter({"requests": sum(c.requests for c in self.clients),
                        "retries": sum(c.retries for c in self.clients)})

    def close(self) -> None:
        for api in self.clients:
            api.close()
