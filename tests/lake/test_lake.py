"""One code path on a DuckLake (PostgreSQL catalog, Parquet data): the transform runner's
history and all-or-nothing tests run unchanged on a lake, a sync loads it through dlt's
ducklake destination, and `crmsync sql` queries it read-only or opens DuckDB's shell on it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from crmsync.kernel.lake import Lake
from crmsync.pipelines.sync import sync
from crmsync.sandbox.server import SandboxServer
from crmsync.transforms.runner import run_transforms

from tests.lake.conftest import lake_query, new_lake
from tests.sources.conftest import truth
from tests.transforms import test_runner, test_segments
from tests.transforms.model_tree import load_raw, write_tree


@pytest.fixture()
def empty_lake(postgres: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Lake:
    return new_lake(postgres, tmp_path, monkeypatch)


def test_segment_history_over_three_runs_on_a_lake(tmp_path: Path, empty_lake: Lake) -> None:
    test_segments.test_history_over_three_runs_enter_leave_and_come_back(
        write_tree(tmp_path / "transforms", test_segments.TREE), empty_lake)


def test_a_build_error_rolls_the_lake_back_to_the_previous_relations(tmp_path: Path, empty_lake: Lake) -> None:
    load_raw(empty_lake, "raw_shop.customers", "id VARCHAR, email VARCHAR, country VARCHAR", test_runner.CUSTOMERS)
    load_raw(empty_lake, "raw_shop.orders", "id VARCHAR, customer_id VARCHAR, amount INTEGER", test_runner.ORDERS)
    test_runner.test_a_build_error_rolls_back_and_leaves_the_previous_relations(
        write_tree(tmp_path / "transforms", test_runner.SHOP), empty_lake)


def test_sync_loads_the_lake_and_the_models_build_from_it(sandbox: SandboxServer, lake: Lake) -> None:
    results = sync(["waabot"], lake)

    assert {p: r.error for p, r in results.items()} == {"waabot": None}
    expected = truth(sandbox)["counts"]
    for provider in results:
        loaded = lake_query(lake, f"SELECT count(*) FROM raw_{provider}.contacts WHERE deleted_at IS NULL")
        assert loaded[0][0] == expected[provider]["contacts"], provider
    transformed = run_transforms(lake)
    assert transformed.status == "ok", transformed.error
    people = lake_query(lake, "SELECT count(*) FROM crm.people")[0][0]
    assert people > 0 and set(transformed.segments) == {"high_value_customers", "inactive_opted_in",
                                                        "multi_provider", "stalled_opportunities"}


def crmsync(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crmsync", *args], input=stdin, capture_output=True, text=True,
                          env=dict(os.environ), timeout=120)


def test_sql_queries_a_lake_read_only_as_json_or_csv_and_opens_the_shell(empty_lake: Lake) -> None:
    load_raw(empty_lake, "raw_s.people", "id VARCHAR, score INTEGER", [("p1", 3), ("p2", 12)])
    where = ("--warehouse", str(empty_lake))
    query = "SELECT id, score FROM raw_s.people ORDER BY id"

    as_json = crmsync("sql", query, *where, "--json")
    as_csv = crmsync("sql", query, *where, "--csv")
    write = crmsync("sql", "DELETE FROM raw_s.people", *where)
    shell = crmsync("sql", *where, stdin="SELECT sum(score) AS total FROM raw_s.people;\n")

    assert json.loads(as_json.stdout) == [{"id": "p1", "score": 3}, {"id": "p2", "score": 12}], as_json.stderr
    assert as_csv.stdout.splitlines() == ["id,score", "p1,3", "p2,12"], as_csv.stderr
    assert write.returncode == 2 and "read-only" in write.stderr.lower(), write.stderr
    assert shell.returncode == 0 and "15" in shell.stdout, shell.stdout + shell.stderr
    assert lake_query(empty_lake, "SELECT count(*) FROM raw_s.people") == [(2,)]


def test_sql_opens_a_duckdb_file_the_same_way(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    load_raw(warehouse, "raw_s.people", "id VARCHAR, score INTEGER", [("p1", 3), ("p2", 12)])

    as_csv = crmsync("sql", "SELECT id FROM raw_s.people ORDER BY id", "--warehouse", str(warehouse), "--csv")
    shell = crmsync("sql", "--warehouse", str(warehouse), stdin="SELECT max(score) AS top FROM raw_s.people;\n")

    assert as_csv.stdout.splitlines() == ["id", "p1", "p2"], as_csv.stderr
    assert shell.returncode == 0 and "12" in shell.stdout, shell.stdout + shell.stderr
