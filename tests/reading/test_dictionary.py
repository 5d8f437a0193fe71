"""The warehouse documents itself: every crm.* and ops.* table and column carries a comment,
raw tables say what they hold and their key, staging models what they are, and dlt's scratch
schemas are gone."""

from __future__ import annotations

from pathlib import Path

import duckdb

from crmsync.kernel.comments import comments
from crmsync.pipelines.raw_dictionary import describe_raw, read_dictionary
from crmsync.sources import registry
from crmsync.pipelines.sync import QUARANTINE_TABLE_SQL


def test_every_crm_and_ops_table_and_column_has_a_comment(looped: Path, tmp_path: Path) -> None:
    copy = tmp_path / "w.duckdb"
    copy.write_bytes(looped.read_bytes())
    with duckdb.connect(str(copy)) as con:
        con.execute(QUARANTINE_TABLE_SQL)  # what a sync runs when it set a record aside
        found = {schema: comments(con, schema) for schema in ("crm", "ops")}
    assert len(found["crm"]) >= 12 and len(found["ops"]) >= 7, {s: list(t) for s, t in found.items()}
    missing = [f"{schema}.{table}" + (f".{column}" if column else "")
               for schema, tables in found.items() for table, (comment, columns) in tables.items()
               for column, text in [(None, comment), *columns.items()] if not (text or "").strip()]
    assert missing == []


def test_a_comment_that_already_reads_so_is_not_written_again(tmp_path: Path) -> None:
    """Every sync describes its raw tables; a rerun whose schema did not change rewrites no
    comment (each COMMENT is a catalog write, which makes the table anew: a new table_oid)."""
    dictionary = tmp_path / "raw.toml"
    dictionary.write_text('[people]\ndescription = "People."\n[people.descriptions]\nname = "Their name."\n'
                          '[orders]\ndescription = "Orders."\n')
    with duckdb.connect() as con:
        con.execute("CREATE SCHEMA raw_x; CREATE TABLE raw_x.people (id INT, name TEXT, deleted_at TIMESTAMP);"
                    "CREATE TABLE raw_x.orders (id INT)")

        def oids() -> dict[str, int]:
            return dict(con.execute("SELECT table_name, table_oid FROM duckdb_tables() "
                                    "WHERE schema_name = 'raw_x'").fetchall())

        describe_raw(con, "raw_x", dictionary, {"people": ["id"]})
        described = oids()
        describe_raw(con, "raw_x", dictionary, {"people": ["id"]})
        assert oids() == described
        dictionary.write_text(dictionary.read_text().replace("Their name.", "What they are called."))
        describe_raw(con, "raw_x", dictionary, {"people": ["id"]})
        assert oids()["people"] != described["people"] and oids()["orders"] == described["orders"]
        assert comments(con, "raw_x")["people"][1]["name"] == "What they are called."


def test_raw_and_staging_tables_are_described_and_no_scratch_schema_is_left(looped: Path) -> None:
    with duckdb.connect(str(looped), read_only=True) as con:
        schemas = {r[0] for r in con.execute("SELECT schema_name FROM duckdb_schemas()").fetchall()}
        raw = comments(con, "raw_chatman")
        staging = comments(con, "staging")
    assert not [s for s in schemas if s.endswith("_staging")], schemas
    comment, columns = raw["contacts"]
    assert "Key: user_id" in comment and "Chatman contacts" in comment
    assert columns["whatsapp_opted"] and columns["deleted_at"] and raw["_dlt_loads"][0]
    assert len(staging) >= 15 and [name for name, (comment, _) in staging.items() if not comment] == []


def test_every_raw_column_the_sandbox_loads_is_described_and_every_description_names_one(looped: Path) -> None:
    """raw.toml against what a sync of every provider made: a column it forgot, or a name it
    misspelt (which would describe nothing), fails here."""
    with duckdb.connect(str(looped), read_only=True) as con:
        built = {p.name: comments(con, f"raw_{p.name}") for p in registry.providers()}
    undescribed = [f"raw_{p}.{t}.{c}" for p, tables in built.items() for t, (comment, columns) in tables.items()
                   for c, text in [("(table)", comment), *columns.items()] if not text]
    assert undescribed == []
    for provider in registry.providers():
        for table, entry in read_dictionary(provider.dictionary).items():
            assert table in built[provider.name], f"{provider.dictionary}: no table {table}"
            assert set(entry["descriptions"]) <= set(built[provider.name][table][1]), f"{provider.dictionary}: {table}"
