"""After a provider's load: its raw tables described in the warehouse, dlt's scratch copy gone.

Comments (kernel/comments.py): each table and column the provider's `raw.toml` describes
(what crmsync knows of the provider's fields), every `deleted_at`, dlt's own `_dlt_*` tables
(sql/dlt_tables.toml), and each table's key as dlt's schema declares it. The key is what dlt
merges on, so a key is unique in the table, but DuckDB declares no PRIMARY KEY: an index would
cost memory on every merge of a large table, so the key is said in the table's comment.

dlt merges through a staging dataset (`raw_<provider>_staging`), a scratch copy of the last
load's rows that it truncates at the next load and never drops. It is dropped after each
load so the analyst's warehouse shows only crmsync's schemas; dlt makes it again when it
needs it (a few CREATE TABLEs per load).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import dlt
import duckdb
from crmsync.kernel.comments import comment_on, comments, quoted
from crmsync.kernel.errors import UserError
from crmsync.kernel.warehouse import connect
from dlt.common.schema.utils import get_columns_names_with_prop

DLT_TABLES = Path(__file__).parent / "sql" / "dlt_tables.toml"
DELETED_AT = "When crmsync saw the record deleted in the provider; NULL while it lives (a record that comes back is live again)."


def tidy_raw(warehouse: Path, pipeline: dlt.Pipeline, dictionary: Path | None) -> None:
    """Drop the pipeline's scratch dataset and describe its raw tables, in one transaction: one
    commit, where a statement each cost a commit each (~0.1-0.3 s of every run)."""
    with connect(warehouse) as con:
        con.begin()
        drop_scratch(con, scratch_dataset(pipeline))
        describe_raw(con, pipeline.dataset_name, dictionary, merge_keys(pipeline))
        con.commit()


def describe_raw(con: duckdb.DuckDBPyConnection, dataset: str, dictionary: Path | None,
                 keys: dict[str, list[str]]) -> None:
    """Comment every table of `dataset` that `dictionary`, dlt's tables or `keys` know of; a
    comment that already reads so is not written again (a rerun whose schema did not change
    writes none)."""
    described = {**read_dictionary(DLT_TABLES), **(read_dictionary(dictionary) if dictionary else {})}
    for table, (current, columns) in comments(con, dataset).items():
        entry = described.get(table, {})
        text = entry.get("description", "")
        if keys.get(table):
            text += f" Key: {', '.join(keys[table])} (one row per key: dlt merges on it; no DuckDB constraint)."
        texts = {c: t for c, t in entry.get("descriptions", {}).items() if c in columns}
        if "deleted_at" in columns:
            texts.setdefault("deleted_at", DELETED_AT)
        text = text.strip()
        comment_on(con, f"{dataset}.{table}", text if text != current else "",
                   {column: t for column, t in texts.items() if t != columns[column]})


def read_dictionary(path: Path) -> dict[str, dict[str, Any]]:
    """A raw.toml: `[<table>] description = "..."` and `[<table>.descriptions] <column> = "..."`."""
    try:
        return tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise UserError(f"{path}: cannot read the raw tables' descriptions: {error}") from None


def merge_keys(pipeline: dlt.Pipeline) -> dict[str, list[str]]:
    """Each table's primary key, as the resources declare it to dlt."""
    return {name: keys for name, table in pipeline.default_schema.tables.items()
            if (keys := get_columns_names_with_prop(table, "primary_key"))}


def scratch_dataset(pipeline: dlt.Pipeline) -> str:
    """The staging dataset dlt merges through, as its destination configuration names it."""
    return pipeline.destination_client().config.normalize_staging_dataset_name(pipeline.default_schema)


def drop_scratch(con: duckdb.DuckDBPyConnection, dataset: str) -> None:
    con.execute(f"DROP SCHEMA IF EXISTS {quoted(dataset)} CASCADE")
