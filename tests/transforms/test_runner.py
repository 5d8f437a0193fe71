"""The transform runner on tiny model trees: order from the SQL, views and tables, data tests,
all-or-nothing runs, --select, empty staging models, phone_e164, the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from crmsync.kernel.errors import UserError
from crmsync.kernel.phones import to_e164
from tests.transforms.model_tree import kind_of, load_raw, query, write_tree
from crmsync.transforms.functions import register_functions
from crmsync.transforms.models import discover_models
from crmsync.transforms.runner import build_order, run_transforms

CUSTOMERS = [("c1", "A@x.io", "NG"), ("c2", "b@x.io", "KE"), ("c3", "c@x.io", "NG")]
ORDERS = [("o1", "c1", 10), ("o2", "c1", 5), ("o3", "c3", 7)]

# File names sort against the build order on purpose: the order must come from the SQL.
SHOP = {
    "staging/shop/customers.sql": """
        -- materialized: view
        SELECT id AS customer_id, lower(email) AS email, country FROM raw_shop.customers
        """,
    "staging/shop/orders.sql": """
        -- materialized: table
        SELECT id AS order_id, customer_id, amount FROM raw_shop.orders;
        """,
    "marts/m_customers.sql": """
        -- materialized: table
        -- one row per customer
        WITH c AS (SELECT * FROM staging.shop_customers)
        SELECT customer_id, email FROM c
        """,
    "marts/a_summary.sql": """
        -- materialized: table
        SELECT m.customer_id, sum(o.amount) AS total
        FROM crm.m_customers AS m JOIN staging.shop_orders AS o USING (customer_id)
        GROUP BY ALL
        """,
    "marts/b_top.sql": """
        SELECT * FROM crm.a_summary ORDER BY total DESC LIMIT 1
        """,
}
SHOP_DEPENDS = {
    "staging.shop_customers": set(), "staging.shop_orders": set(),
    "crm.m_customers": {"staging.shop_customers"},
    "crm.a_summary": {"crm.m_customers", "staging.shop_orders"},
    "crm.b_top": {"crm.a_summary"},
}


@pytest.fixture()
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    load_raw(path, "raw_shop.customers", "id VARCHAR, email VARCHAR, country VARCHAR", CUSTOMERS)
    load_raw(path, "raw_shop.orders", "id VARCHAR, customer_id VARCHAR, amount INTEGER", ORDERS)
    return path


@pytest.fixture()
def shop(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "transforms", SHOP)


def relation_of(relative: str) -> str:
    parts = Path(relative).with_suffix("").parts
    return f"staging.{parts[1]}_{parts[2]}" if parts[0] == "staging" else f"crm.{parts[1]}"


def test_dependencies_and_order_come_from_the_sql(shop: Path, warehouse: Path) -> None:
    models = discover_models(shop)
    assert {name: set(m.depends_on) for name, m in models.items()} == SHOP_DEPENDS
    assert models["staging.shop_orders"].sources == {"raw_shop.orders"}

    result = run_transforms(warehouse, shop)

    assert result.status == "ok", result.error
    built = [m.name for m in result.models]
    assert sorted(built) == sorted(SHOP_DEPENDS)
    for name, depends in SHOP_DEPENDS.items():
        assert all(built.index(d) < built.index(name) for d in depends), built
    assert built != sorted(built), "the fixture must not be buildable in name order"
    assert build_order(models) == built


def test_each_model_is_a_view_or_a_table_as_its_header_says(shop: Path, warehouse: Path) -> None:
    result = run_transforms(warehouse, shop)

    assert result.status == "ok", result.error
    for relative, text in SHOP.items():
        expected = "table" if "materialized: table" in text else "view"
        assert kind_of(warehouse, relation_of(relative)) == expected
        assert next(m for m in result.models if m.name == relation_of(relative)).materialized == expected
    rows = {m.name: m.rows for m in result.models}
    assert rows["staging.shop_orders"] == len(ORDERS)
    assert rows["crm.a_summary"] == len({customer for _, customer, _ in ORDERS})


def test_a_model_can_turn_from_view_to_table_and_back(shop: Path, warehouse: Path) -> None:
    view = SHOP["marts/b_top.sql"]
    for header, expected in (("-- materialized: table\n", "table"), ("", "view")):
        write_tree(shop, {"marts/b_top.sql": header + view})
        assert run_transforms(warehouse, shop).status == "ok"
        assert kind_of(warehouse, "crm.b_top") == expected


ITEMS = {
    "staging/t/parents.sql": "-- materialized: table\nSELECT id FROM raw_t.parents\n",
    "staging/t/items.sql": "-- materialized: table\nSELECT id, kind, parent FROM raw_t.items\n",
}
PARENTS = [("p1",), ("p2",)]
CLEAN = [(f"i{n}", "a" if n % 2 else "b", f"p{n % 2 + 1}") for n in range(8)]
# Breaks every test below, some more than five times so the sample must be cut.
DIRTY = CLEAN + [("i1", "a", "p1"), ("i2", "b", "p2")] + [(f"x{n}", "zzz", "p9") for n in range(7)] \
    + [(f"n{n}", None, None) for n in range(2)]
DECLARATIONS = {
    "unique": ('unique = [["id"]]', "unique(id)"),
    "not_null": ('not_null = ["kind"]', "not_null(kind)"),
    "accepted_values": ('accepted_values = { kind = ["a", "b"] }', "accepted_values(kind)"),
    "relationships": ('relationships = { parent = "staging.t_parents.id" }',
                      "relationships(parent -> staging.t_parents.id)"),
}


def breaking(kind: str, rows: list[tuple]) -> tuple[int, set[str]]:
    """(how many rows the test reports, the ids it may sample), computed from the rows."""
    if kind == "unique":
        twice = {i for i, n in Counter(r[0] for r in rows).items() if n > 1}
        return len(twice), twice
    if kind == "not_null":
        bad = [r for r in rows if r[1] is None]
    elif kind == "accepted_values":
        bad = [r for r in rows if r[1] is not None and r[1] not in ("a", "b")]
    else:
        bad = [r for r in rows if r[2] is not None and r[2] not in {p for (p,) in PARENTS}]
    return len(bad), {r[0] for r in bad}


@pytest.mark.parametrize("kind", list(DECLARATIONS))
def test_each_data_test_passes_on_clean_rows_and_names_model_test_and_sample_when_failing(
        kind: str, tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    declaration, label = DECLARATIONS[kind]
    root = write_tree(tmp_path / "transforms", {**ITEMS, "staging/t/items.toml": f"[tests]\n{declaration}\n"})
    load_raw(warehouse, "raw_t.parents", "id VARCHAR", PARENTS)
    load_raw(warehouse, "raw_t.items", "id VARCHAR, kind VARCHAR, parent VARCHAR", CLEAN)

    passed = run_transforms(warehouse, root)
    assert passed.status == "ok", passed.error
    assert [(t.model, t.test, t.status) for t in passed.tests] == [("staging.t_items", label, "pass")]

    load_raw(warehouse, "raw_t.items", "id VARCHAR, kind VARCHAR, parent VARCHAR", DIRTY)
    failed = run_transforms(warehouse, root)

    failures, offending = breaking(kind, DIRTY)
    assert failures > 0
    test = failed.tests[0]
    assert failed.status == "failed" and test.status == "fail"
    assert test.failures == failures
    assert len(test.sample) == min(5, failures)
    assert {row["id"] for row in test.sample} <= offending
    assert "staging.t_items" in failed.error and label in failed.error
    assert str(test.sample[0]["id"]) in failed.error
    # The failed run rolled back: the warehouse keeps the clean build.
    assert query(warehouse, "SELECT count(*) FROM staging.t_items") == [(len(CLEAN),)]


def test_a_build_error_rolls_back_and_leaves_the_previous_relations(shop: Path, warehouse: Path) -> None:
    assert run_transforms(warehouse, shop).status == "ok"
    before = {name: query(warehouse, f"SELECT * FROM {name} ORDER BY ALL") for name in SHOP_DEPENDS}
    load_raw(warehouse, "raw_shop.orders", "id VARCHAR, customer_id VARCHAR, amount INTEGER",
             ORDERS + [("o4", "c2", 99)])
    write_tree(shop, {"marts/b_top.sql": "SELECT no_such_column FROM crm.a_summary\n"})

    result = run_transforms(warehouse, shop)

    assert result.status == "failed"
    assert "crm.b_top" in result.error and "no_such_column" in result.error
    assert "crm.a_summary" in [m.name for m in result.models]  # rebuilt in the run, then rolled back
    after = {name: query(warehouse, f"SELECT * FROM {name} ORDER BY ALL") for name in SHOP_DEPENDS
             if name != "crm.b_top"}
    assert after == {name: rows for name, rows in before.items() if name != "crm.b_top"}
    assert kind_of(warehouse, "crm.b_top") == "view"


def test_select_builds_the_model_and_its_upstream_only(shop: Path, warehouse: Path) -> None:
    assert run_transforms(warehouse, shop).status == "ok"

    result = run_transforms(warehouse, shop, select=["a_summary"])

    upstream, waiting = set(), ["crm.a_summary"]
    while waiting:
        name = waiting.pop()
        upstream.add(name)
        waiting.extend(SHOP_DEPENDS[name])
    assert result.status == "ok"
    assert {m.name for m in result.models} == upstream
    assert "crm.b_top" not in upstream
    assert [m.name for m in run_transforms(warehouse, shop, select=["staging.shop_orders"]).models] == [
        "staging.shop_orders"]


def test_select_of_an_unknown_model_is_a_user_error(shop: Path, warehouse: Path) -> None:
    with pytest.raises(UserError, match="--select nope: no such model"):
        run_transforms(warehouse, shop, select=["nope"])


def test_a_staging_model_whose_raw_table_is_missing_is_built_empty_from_its_columns(
        tmp_path: Path, warehouse: Path) -> None:
    columns = {"contact_id": "VARCHAR", "tags": "VARCHAR[]", "created_at": "TIMESTAMPTZ", "amount": "DECIMAL(12,2)"}
    root = write_tree(tmp_path / "transforms", {
        "staging/ghost/contacts.sql": "-- materialized: table\nSELECT * FROM raw_ghost.contacts\n",
        "staging/ghost/contacts.toml": "[columns]\n" + "".join(f'{c} = "{t}"\n' for c, t in columns.items()),
        "marts/everyone.sql": "SELECT contact_id FROM staging.ghost_contacts\n",
    })

    result = run_transforms(warehouse, root)

    assert result.status == "ok", result.error
    assert [(m.name, m.rows, m.empty) for m in result.models] == [
        ("staging.ghost_contacts", 0, True), ("crm.everyone", 0, False)]
    with duckdb.connect() as con:
        expected = [(c, con.execute(f"SELECT typeof(CAST(NULL AS {t}))").fetchone()[0]) for c, t in columns.items()]
    assert query(warehouse, "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = 'staging' "
                            "AND table_name = 'ghost_contacts' ORDER BY column_index") == expected


def test_a_missing_raw_table_without_columns_is_a_user_error(tmp_path: Path, warehouse: Path) -> None:
    root = write_tree(tmp_path / "transforms", {"staging/ghost/contacts.sql": "SELECT * FROM raw_ghost.contacts\n"})
    with pytest.raises(UserError, match=r"contacts.sql: reads raw_ghost.contacts.*no \[columns\]"):
        run_transforms(warehouse, root)


def test_columns_that_differ_from_the_declaration_fail_the_run(tmp_path: Path, warehouse: Path) -> None:
    root = write_tree(tmp_path / "transforms", {
        "staging/shop/orders.sql": "SELECT id AS order_id, amount FROM raw_shop.orders\n",
        "staging/shop/orders.toml": '[columns]\norder_id = "VARCHAR"\namount = "BIGINT"\n',
    })

    result = run_transforms(warehouse, root)

    assert result.status == "failed"
    [test] = result.tests
    assert (test.test, test.status, test.failures) == ("columns", "fail", 1)
    assert test.sample[0]["declared_type"] == "BIGINT" and test.sample[0]["built_type"] == "INTEGER"


def test_a_relationship_to_a_model_built_later_is_tested_after_that_model(tmp_path: Path, warehouse: Path) -> None:
    root = write_tree(tmp_path / "transforms", {
        "staging/shop/customers.sql": "SELECT id AS customer_id FROM raw_shop.customers\n",
        "staging/shop/customers.toml": '[tests]\nrelationships = { customer_id = "crm.people.person_id" }\n',
        "marts/people.sql": "-- materialized: table\nSELECT customer_id AS person_id FROM staging.shop_customers\n",
    })

    result = run_transforms(warehouse, root)

    assert result.status == "ok", result.error
    assert [(t.model, t.status) for t in result.tests] == [("staging.shop_customers", "pass")]


def test_a_cycle_and_sql_that_does_not_parse_are_user_errors(tmp_path: Path, warehouse: Path) -> None:
    cycle = write_tree(tmp_path / "cycle", {"marts/a.sql": "SELECT * FROM crm.b\n", "marts/b.sql": "SELECT * FROM crm.a\n"})
    with pytest.raises(UserError, match="cycle"):
        run_transforms(warehouse, cycle)
    broken = write_tree(tmp_path / "broken", {"marts/a.sql": "SELECT FROM WHERE (\n"})
    with pytest.raises(UserError, match=r"a.sql: SQL does not parse"):
        run_transforms(warehouse, broken)


PHONES = [("+2348031234567", None), ("08031234567", "234"), ("0803 123 4567", "+234"), ("12", None),
          ("not a phone", "234"), (None, "234"), ("", None), ("08031234567", None)]


def test_phone_e164_matches_to_e164_row_for_row(monkeypatch: pytest.MonkeyPatch) -> None:
    for region in (None, "NG"):
        if region:
            monkeypatch.setenv("TRANSFORM__DEFAULT_REGION", region)
        with duckdb.connect() as con:
            register_functions(con)
            con.execute("CREATE TABLE p (raw VARCHAR, code VARCHAR)")
            con.executemany("INSERT INTO p VALUES (?, ?)", PHONES)
            got = con.execute("SELECT phone_e164(raw, code) FROM p ORDER BY rowid").fetchall()
        assert got == [(to_e164(raw, code, region) if raw else None,) for raw, code in PHONES]
    assert to_e164("08031234567", None, "NG") and not to_e164("08031234567", None, None)


def crmsync(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crmsync", *args], capture_output=True, text=True,
                          env=dict(os.environ), timeout=120)


def test_transform_command_prints_json_and_exits_0_1_2(shop: Path, warehouse: Path) -> None:
    common = ("transform", "--warehouse", str(warehouse), "--transforms", str(shop))
    ok = crmsync(*common, "--json")
    assert ok.returncode == 0, ok.stderr
    document = json.loads(ok.stdout)
    assert document["status"] == "ok"
    assert {m["name"] for m in document["models"]} == set(SHOP_DEPENDS)
    assert set(document["models"][0]) >= {"name", "rows", "seconds", "materialized"}

    write_tree(shop, {"marts/a_summary.toml": '[tests]\naccepted_values = { customer_id = ["c3"] }\n'})
    failed = crmsync(*common, "--json")
    assert failed.returncode == 1
    [test] = json.loads(failed.stdout)["tests"]
    assert (test["model"], test["status"]) == ("crm.a_summary", "fail")
    assert set(test) >= {"model", "test", "status", "failures", "sample"}

    unknown = crmsync(*common, "--select", "nope")
    assert unknown.returncode == 2
    assert len(unknown.stderr.strip().splitlines()) == 1 and "nope" in unknown.stderr


def test_a_models_descriptions_are_its_comments_in_the_warehouse_run_after_run(shop: Path, warehouse: Path) -> None:
    write_tree(shop, {"marts/a_summary.toml": 'description = "Spend per customer"\n\n'
                                             '[descriptions]\ntotal = "What they spent, in cents"\n'})
    for _ in range(2):  # CREATE OR REPLACE drops a relation's comments: each run writes them again
        assert run_transforms(warehouse, shop).status == "ok"
        assert query(warehouse, "SELECT comment FROM duckdb_tables() WHERE table_name = 'a_summary'") == \
            [("Spend per customer",)]
        assert query(warehouse, "SELECT column_name, comment FROM duckdb_columns() "
                                "WHERE table_name = 'a_summary' ORDER BY column_index") == \
            [("customer_id", None), ("total", "What they spent, in cents")]


def test_a_description_of_a_column_the_model_lacks_fails_and_an_unknown_key_is_refused(
        shop: Path, warehouse: Path) -> None:
    write_tree(shop, {"marts/a_summary.toml": '[descriptions]\nspent = "gone"\n'})
    result = run_transforms(warehouse, shop)
    assert result.status == "failed" and "crm.a_summary" in result.error and "spent" in result.error
    write_tree(shop, {"marts/a_summary.toml": 'descripton = "typo"\n'})
    with pytest.raises(UserError, match=r"a_summary.toml: unknown key 'descripton'; did you mean description\?"):
        run_transforms(warehouse, shop)
