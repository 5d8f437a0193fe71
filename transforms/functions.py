"""DuckDB functions the models call, registered on the runner's connection before building.

They exist only on that connection: a view that calls one cannot be read by another
connection, so a model using them should be materialised as a table.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import dlt
import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from duckdb.sqltypes import VARCHAR

from sources.common.phones import to_e164

DEFAULT_REGION_KEY = "transform.default_region"  # env TRANSFORM__DEFAULT_REGION


def default_region() -> str | None:
    """The region national numbers with no calling code are read in (e.g. "NG"); none by default."""
    value = dlt.config.get(DEFAULT_REGION_KEY, str)
    return (value or "").strip().upper() or None


def phone_e164_batch(default: str | None) -> Callable[[pa.Array, pa.Array], pa.Array]:
    """The arrow body of `phone_e164(raw, calling_code)`: E.164 or NULL, a batch at a time.

    Parsing is the cost (~40 us a number), so a (raw, code) pair is parsed once per run and
    comes from a cache after that: the same number recurs across providers and tables."""

    @lru_cache(maxsize=1_000_000)
    def one(raw: str | None, code: str | None) -> str | None:
        return to_e164(raw, code, default)

    def batch(raw: pa.Array, calling_code: pa.Array) -> pa.Array:
        raw_text = pc.cast(raw, pa.string()).to_pylist()
        codes = pc.cast(calling_code, pa.string()).to_pylist()
        return pa.array([one(r, c) if r else None for r, c in zip(raw_text, codes)], pa.string())

    return batch


def register_functions(con: duckdb.DuckDBPyConnection) -> None:
    """Make the model functions callable on `con` (idempotent per connection)."""
    existing = {row[0] for row in con.execute(
        "SELECT function_name FROM duckdb_functions() WHERE function_name = 'phone_e164'").fetchall()}
    if existing:
        con.remove_function("phone_e164")
    # null_handling="special": a NULL calling code must still reach the function.
    con.create_function("phone_e164", phone_e164_batch(default_region()), [VARCHAR, VARCHAR], VARCHAR,
                        type="arrow", null_handling="special", side_effects=False)
