"""Data tests as SQL: each declared test becomes one query returning the offending rows.

A test passes when its query returns nothing. The templates are the .sql files in
`transforms/checks/`; `columns` is not declared but added for every staging model with a
[columns] table, so an empty build (raw table missing) has the same shape as a real one.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from crmsync.transforms.models import DataTest, Model, quote, relation

TEMPLATES = Path(__file__).parent / "checks"


@cache
def template(kind: str) -> str:
    return (TEMPLATES / f"{kind}.sql").read_text()


def literal(value: Any) -> str:
    """A TOML value as a SQL literal (accepted values are written by people, not typed by DuckDB)."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def check_sql(model: Model, test: DataTest) -> str:
    """The query returning the rows that break `test` on `model`'s relation."""
    target = relation(model.name)
    column = quote(test.columns[0])
    if test.kind == "unique":
        key = ", ".join(quote(c) for c in test.columns)
        not_null = " AND ".join(f"{quote(c)} IS NOT NULL" for c in test.columns)
        return template("unique").format(key=key, relation=target, key_not_null=not_null)
    if test.kind == "not_null":
        return f"SELECT * FROM {target} WHERE {column} IS NULL"
    if test.kind == "accepted_values":
        accepted = ", ".join(literal(v) for v in test.argument)
        return template("accepted_values").format(relation=target, column=column, accepted=accepted)
    if test.kind == "relationships":
        parent, parent_column = test.argument.rsplit(".", 1)
        return template("relationships").format(relation=target, column=column, parent=relation(parent),
                                                parent_column=quote(parent_column))
    if test.kind == "columns":
        return columns_sql(model)
    raise ValueError(f"unknown test kind {test.kind}")


def columns_test(model: Model) -> DataTest | None:
    """The implicit check that a staging model matches its [columns] declaration."""
    return DataTest("columns", tuple(model.columns)) if model.columns else None


def columns_sql(model: Model) -> str:
    # typeof(CAST(NULL AS t)) spells the declared type the way DuckDB's catalog does
    # (TIMESTAMPTZ -> TIMESTAMP WITH TIME ZONE), so aliases are not differences.
    declared = ", ".join(f"({position}, {literal(name)}, typeof(CAST(NULL AS {column_type})))"
                         for position, (name, column_type) in enumerate(model.columns.items(), start=1))
    schema, table = model.name.split(".")
    return template("columns").format(declared=declared, schema=literal(schema), table=literal(table))
