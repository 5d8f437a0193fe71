"""DuckDB functions the models call, registered on the runner's connection before building.

They exist only on that connection: a view that calls one cannot be read by another
connection, so a model using them should be materialised as a table.

- `phone_e164(raw, calling_code)`: E.164 or NULL, as `crmsync.kernel.phones.to_e164` says.
- `email_normal(email)`: trimmed, lower case, NULL unless it looks like an address
  (transforms/sql/functions.sql).
"""

from __future__ import annotations

from pathlib import Path

import dlt
import duckdb
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc
from crmsync.kernel.phones import to_e164
from crmsync.kernel.warehouse import relations
from duckdb.sqltypes import VARCHAR

DEFAULT_REGION_KEY = "transform.default_region"  # env TRANSFORM__DEFAULT_REGION
SQL = Path(__file__).parent / "sql"
PHONE_TABLE = "ops.phone_e164"


def default_region() -> str | None:
    """The region national numbers with no calling code are read in (e.g. "NG"); none by default."""
    value = dlt.config.get(DEFAULT_REGION_KEY, str)
    return (value or "").strip().upper() or None


class PhoneNumbers:
    """The body of `phone_e164(raw, calling_code)`, with every answer kept in the warehouse.

    Parsing is the cost (40 to 120 us a number with phonenumbers), so each (raw, code) is
    parsed once per warehouse, not once per run: the answers are loaded from `ops.phone_e164`
    when the function is registered and the new ones written back by `save` at the end of a
    build, so a rerun parses only the numbers that arrived since. Answers are kept per default
    region and phonenumbers version: a change of either parses everything again."""

    def __init__(self, default: str | None, known: dict[tuple[str, str], str | None]) -> None:
        self.default = default
        self.known = known
        self.new: list[tuple[str, str, str | None]] = []

    def batch(self, raw: pa.Array, calling_code: pa.Array) -> pa.Array:
        """A batch of DuckDB rows -> their E.164 (NULL for an empty or junk phone)."""
        raws = pc.cast(raw, pa.string()).to_pylist()
        codes = pc.cast(calling_code, pa.string()).to_pylist()
        return pa.array([self.one(r, c or "") if r else None for r, c in zip(raws, codes)], pa.string())

    def one(self, raw: str, code: str) -> str | None:
        key = (raw, code)
        if key in self.known:
            return self.known[key]
        answer = self.known[key] = to_e164(raw, code or None, self.default)
        self.new.append((raw, code, answer))
        return answer

    def save(self, con: duckdb.DuckDBPyConnection) -> int:
        """Write the answers parsed since the last save to the warehouse; how many."""
        if not self.new:
            return 0
        con.execute(sql_file("phone_table"))
        rows = pa.table({"raw": [r for r, _, _ in self.new], "calling_code": [c for _, c, _ in self.new],
                         "e164": [e for _, _, e in self.new]},
                        schema=pa.schema([("raw", pa.string()), ("calling_code", pa.string()), ("e164", pa.string())]))
        con.register("_new_phones", rows)
        try:
            con.execute(sql_file("phone_save"), {"region": self.default or "", "library": phonenumbers.__version__})
        finally:
            con.unregister("_new_phones")
        saved, self.new = len(self.new), []
        return saved


def load_phone_numbers(con: duckdb.DuckDBPyConnection, default: str | None) -> PhoneNumbers:
    """The answers this warehouse keeps for `default` and this phonenumbers version."""
    known: dict[tuple[str, str], str | None] = {}
    if PHONE_TABLE in relations(con):
        rows = con.execute(sql_file("phone_load"), {"region": default or "", "library": phonenumbers.__version__})
        known = {(raw, code): e164 for raw, code, e164 in rows.fetchall()}
    return PhoneNumbers(default, known)


def register_functions(con: duckdb.DuckDBPyConnection) -> PhoneNumbers:
    """Make the model functions callable on `con` (idempotent per connection); the phone
    answers, for the caller to `save` when the build is kept."""
    existing = {row[0] for row in con.execute(
        "SELECT function_name FROM duckdb_functions() WHERE function_name = 'phone_e164'").fetchall()}
    if existing:
        con.remove_function("phone_e164")
    phones = load_phone_numbers(con, default_region())
    # null_handling="special": a NULL calling code must still reach the function.
    con.create_function("phone_e164", phones.batch, [VARCHAR, VARCHAR], VARCHAR,
                        type="arrow", null_handling="special", side_effects=False)
    con.execute(sql_file("functions"))
    return phones


def sql_file(name: str) -> str:
    return (SQL / f"{name}.sql").read_text()
