"""What one provider's sync run gathers besides the data: clients, full scans, problems, the
records set aside, and the resources that failed alone."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property, wraps
from pathlib import Path

import dlt
import pyarrow as pa
from crmsync.kernel.errors import UserError
from crmsync.sources.common.http import ApiClient, AuthError, RequestFailed
from crmsync.sources.common.records import MAX_VALUE_BYTES, Column, Shape
from crmsync.sources.common.scans import FullScans

VALUE_BOUND_SETTING = "warehouse.max_value_bytes"
Rows = Callable[..., Iterator]  # a dlt resource's or transformer's generator function


@dataclass
class SyncRun:
    warehouse: Path
    scans: FullScans = field(init=False)
    shapes: dict[str, Shape] = field(default_factory=dict)
    clients: list[ApiClient] = field(default_factory=list)
    on_rows: Callable[[str, int], None] | None = None  # progress: (table, rows read so far)
    failed: dict[str, Exception] = field(default_factory=dict)  # resource -> why it failed alone

    def __post_init__(self) -> None:
        self.scans = FullScans(self.warehouse)  # complete listings look up what it holds

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

    def fails_alone(self, resource: str) -> Callable[[Rows], Rows]:
        """A decorator of a resource's (or transformer's) generator function: an endpoint
        that fails after the client's retries, or answers what cannot be read, ends that
        resource only, and the run's other resources still load. The error is kept in
        `failed`; what the resource yielded before still loads; its cursors and scans, which
        move only when a read ends, stay where they were (nothing is marked deleted); a
        transformer skips its later items. Not for the resources a provider's contacts need,
        nor for one read only for what the contacts load this run (their cursor moves on
        without it)."""

        def decorate(rows: Rows) -> Rows:
            @wraps(rows)
            def guarded(*args: object, **kwargs: object) -> Iterator:
                if resource in self.failed:
                    return
                try:
                    yield from rows(*args, **kwargs)
                except (RequestFailed, AuthError) as error:  # what an endpoint answered, not a setting
                    self.failed[resource] = error

            return guarded

        return decorate

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
