"""DuckDB functions the models call, registered on the runner's connection before building.

They exist only on that connection: a view that calls one cannot be read by another
connection, so a model using them should be materialised as a table.

- `phone_e164(raw, calling_code)`: E.164 or NULL, as `crmsync.kernel.phones.parse_phone` says.
- `phone_quality(raw, calling_code)`: 'valid', 'possible' (a plausible number the library's
  metadata does not know yet) or 'junk'; NULL for no phone.
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
from crmsync.kernel.phones import Phone, parse_phone
from crmsync.kernel.warehouse import relations
from duckdb.sqltypes import VARCHAR

DEFAULT_REGION_KEY = "transform.default_region"  # env TRANSFORM__DEFAULT_REGION
SQL = Path(__file__).parent / "sql"
PHONE_TABLE = "ops.phone_e164"
# What a kept answer was computed by: phonenumbers' version (its metadata changes) and our
# own rules' (2: possible numbers keep their E.164). A change of either parses again.
ANSWERS_VERSION = f"{phonenumbers.__version__}/2"


def default_region() -> str | None:
    """The region national numbers with no calling code are read in (e.g. "NG"); none by default."""
    value = dlt.config.get(DEFAULT_REGION_KEY, str)
    return (value or "").strip().upper() or None


class PhoneNumbers:
    """The body of `phone_e164` and `phone_quality`, with every answer kept in the warehouse.

    Parsing is the cost (40 to 120 us a number with phonenumbers), so each (raw, code) is
    parsed once per warehouse, not once per run: the answers are loaded from `ops.phone_e164`
    when the function is registered and the new ones written back by `save` at the end of a
    build, so a rerun parses only the numbers that arrived since. Answers are kept per default
    region and phonenumbers version: a change of either parses everything again."""

    def __init__(self, default: str | None, known: dict[tuple[str, str], Phone]) -> None:
        self.default = default
        self.known = known
        self.new: list[tuple[str, str, Phone]] = []

    def e164(self, raw: pa.Array, calling_code: pa.Array) -> pa.Array:
        """A batch of DuckDB rows -> their E.164 (NULL for an empty or junk phone)."""
        return pa.array([phone.e164 for phone in self.batch(raw, calling_code)], pa.string())

    def quality(self, raw: pa.Array, calling_code: pa.Array) -> pa.Array:
        """A batch of DuckDB rows -> valid / possible / junk (NULL for no phone)."""
        return pa.array([phone.quality for phone in self.batch(raw, calling_code)], pa.string())

    def batch(self, raw: pa.Array, calling_code: pa.Array) -> list[Phone]:
        raws = pc.cast(raw, pa.string()).to_pylist()
        codes = pc.cast(calling_code, pa.string()).to_pylist()
        return [self.one(r, c or "") if r else Phone(None, None) for r, c in zip(raws, codes)]

    def one(self, raw: str, code: str) -> Phone:
        key = (raw, code)
        if key in self.known:
            return self.known[key]
        answer = self.known[key] = parse_phone(raw, code or None, self.default)
        self.new.append((raw, code, answer))
        return answer

    def save(self, con: duckdb.DuckDBPyConnection) -> int:
        """Write the answers parsed since the last save to the warehouse; how many."""
        if not self.new:
            return 0
        con.execute(sql_file("phone_table"))
        rows = pa.table({"raw": [r for r, _, _ in self.new], "calling_code": [c for _, c, _ in self.new],
                         "e164": [p.e164 for _, _, p in self.new], "quality": [p.quality for _, _, p in self.new]},
                        schema=pa.schema([(name, pa.string()) for name in ("raw", "calling_code", "e164", "quality")]))
        con.register("_new_phones", rows)
        try:
            con.execute(sql_file("phone_save"), {"region": self.default or "", "library": ANSWERS_VERSION})
        finally:
            con.unregister("_new_phones")
        saved, self.new = len(self.new), []
        return saved


def load_phone_numbers(con: duckdb.DuckDBPyConnection, default: str | None) -> PhoneNumbers:
    """The answers this warehouse keeps for `default` and this phonenumbers version."""
    known: dict[tuple[str, str], Phone] = {}
    if PHONE_TABLE in relations(con):
        con.execute(sql_file("phone_table"))  # a warehouse from before the quality column gets it
        rows = con.execute(sql_file("phone_load"), {"region": default or "", "library": ANSWERS_VERSION})
        known = {(raw, code): Phone(e164, quality) for raw, code, e164, quality in rows.fetchall()}
    return PhoneNumbers(default, known)


def register_functions(con: duckdb.DuckDBPyConnection) -> PhoneNumbers:
    """Make the model functions callable on `con` (idempotent per connection); the phone
    answers, for the caller to `save` when the build is kept."""
    existing = {row[0] for row in con.execute(
        "SELECT function_name FROM duckdb_functions() WHERE function_name IN ('phone_e164', 'phone_quality')"
    ).fetchall()}
    for name in existing:
        con.remove_function(name)
    phones = load_phone_numbers(con, default_region())
    # null_handling="special": a NULL calling code must still reach the function.
    for name, body in (("phone_e164", phones.e164), ("phone_quality", phones.quality)):
        con.create_function(name, body, [VARCHAR, VARCHAR], VARCHAR,
                            type="arrow", null_handling="special", side_effects=False)
    con.execute(sql_file("functions"))
    return phones


def sql_file(name: str) -> str:
    return (SQL / f"{name}.sql").read_text()
