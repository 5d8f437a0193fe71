"""What one provider's sync run gathers besides the data: clients, full scans, problems, the
records set aside, and what its budgets chose to refresh."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import dlt
import pyarrow as pa
from crmsync.kernel.errors import UserError
from crmsync.sources.common.budget import Refreshes
from crmsync.sources.common.http import ApiClient
from crmsync.sources.common.records import MAX_VALUE_BYTES, Column, Shape
from crmsync.sources.common.scans import FullScans

VALUE_BOUND_SETTING = "warehouse.max_value_bytes"


@dataclass
class SyncRun:
    warehouse: Path
    scans: FullScans = field(default_factory=FullScans)
    shapes: dict[str, Shape] = field(default_factory=dict)
    clients: list[ApiClient] = field(default_factory=list)
    refreshes: Refreshes = field(default_factory=Refreshes)  # saved to ops.confirmed after the load
    on_rows: Callable[[str, int], None] | None = None  # progress: (table, rows read so far)

    def shape(self, table: str, columns: tuple[Column, ...]) -> Shape:
        """The one Shape of `table` in this run (its problems add up across resources)."""
        if table not in self.shapes:
            shape = Shape(columns, max_value_bytes=self.max_value_bytes)
            if self.on_rows is not None:
                report = self.on_rows
                shape.on_rows = lambda rows: report(table, rows)
            self.shapes[table] = shape
        return self.shapes[table]

    @cached_property
    def max_value_bytes(self) -> int:
        """The bound of one value (`warehouse.max_value_bytes`), read when the first table is
        shaped: inside the provider's sync, so a bad value fails it with one line."""
        try:
            value = dlt.config.get(VALUE_BOUND_SETTING, int)
        except Exception:  # noqa: BLE001 - dlt raises several kinds for a value that is not a number
            value = 0
        if value is None:
            return MAX_VALUE_BYTES
        if value < 1:
            raise UserError(f"setting {VALUE_BOUND_SETTING} must be a whole number of bytes above 0 "
                            f"(default {MAX_VALUE_BYTES})")
        return value

    def client(self, api: ApiClient) -> ApiClient:
        self.clients.append(api)
        return api

    def problems(self) -> dict[str, dict[str, int]]:
        return {table: dict(shape.problems) for table, shape in self.shapes.items() if shape.problems}

    def set_aside(self) -> pa.Table:
        """Every record set aside in this run, with its table (the columns of ops.quarantine
        but the provider and when)."""
        rows = [(table, item) for table, shape in self.shapes.items() for item in shape.set_aside]
        return pa.table({
            "table_name": pa.array([table for table, _ in rows], pa.string()),
            "reason": pa.array([item.reason for _, item in rows], pa.string()),
            "record_key": pa.array([item.key for _, item in rows], pa.string()),
            "loaded": pa.array([item.loaded for _, item in rows], pa.bool_()),
            "raw": pa.array([item.raw for _, item in rows], pa.string()),
            "raw_bytes": pa.array([item.raw_bytes for _, item in rows], pa.int64()),
        })

    def requests(self) -> Counter:
        return Counter({"requests": sum(c.requests for c in self.clients),
                        "retries": sum(c.retries for c in self.clients)})

    def close(self) -> None:
        for api in self.clients:
            api.close()
