"""The warehouse's data dictionary: DuckDB comments on tables and columns.

Whoever opens the warehouse reads what a table or column means from DuckDB itself
(`duckdb_tables()`, `duckdb_columns()`, `.comment` in `SUMMARIZE`-style tools): models from
their TOML (`description`, `[descriptions]`), raw tables from their provider's `raw.toml`,
crmsync's own tables from the COMMENT statements beside their CREATE.
"""

from __future__ import annotations

import duckdb


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def quoted(relation: str) -> str:
    """`schema.table` -> `"schema"."table"`."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in relation.split("."))


def comment_on(con: duckdb.DuckDBPyConnection, relation: str, description: str,
               columns: dict[str, str], view: bool = False) -> None:
    """Comment `relation` (`schema.table`, a table, or a view when `view`) and the named
    columns; a column the relation lacks is DuckDB's error (a description of a column that is
    gone is wrong). A DuckLake comments a view but none of its columns: they stay uncommented
    there (a failed statement would abort the transform's transaction, so it is not tried)."""
    if description:
        con.execute(f"COMMENT ON {'VIEW' if view else 'TABLE'} {quoted(relation)} IS {literal(description)}")
    if view and in_lake(con):
        return
    for column, text in columns.items():
        con.execute(f"COMMENT ON COLUMN {quoted(relation)}.{quoted(column)} IS {literal(text)}")


def in_lake(con: duckdb.DuckDBPyConnection) -> bool:
    """The connection's current catalog is a DuckLake."""
    return con.execute("SELECT type = 'ducklake' FROM duckdb_databases() "
                       "WHERE database_name = current_database()").fetchone()[0]


def comments(con: duckdb.DuckDBPyConnection, schema: str) -> dict[str, tuple[str | None, dict[str, str | None]]]:
    """Every relation of `schema`: table -> (its comment, column -> its comment), columns in order."""
    found: dict[str, tuple[str | None, dict[str, str | None]]] = {}
    for table, comment in con.execute(
            "SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = ? AND NOT temporary "
            "UNION ALL SELECT view_name, comment FROM duckdb_views() WHERE schema_name = ? AND NOT internal "
            "AND NOT temporary ORDER BY 1", [schema, schema]).fetchall():
        found[table] = (comment, {})
    for table, column, comment in con.execute(
            "SELECT table_name, column_name, comment FROM duckdb_columns() WHERE schema_name = ? "
            "ORDER BY table_name, column_index", [schema]).fetchall():
        if table in found:
            found[table][1][column] = comment
    return found
