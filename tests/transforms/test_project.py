"""A project folder: where its staging models come from, relation patterns, the registered
providers as accepted values, folders that are no layer."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmsync.kernel.errors import UserError
from crmsync.sources import registry
from crmsync.transforms.models import discover_models
from crmsync.transforms.runner import DEFAULT_ROOT, build_order, run_transforms
from tests.transforms.model_tree import load_raw, query, write_tree

# Two providers' contacts and one's orders; crm.everyone reads them through patterns. The
# pattern in the string and in the comment is text, not a relation: it must stay as written.
PATTERNS = {
    "staging/a/contacts.sql": "SELECT 'a' AS provider, id FROM raw_a.contacts\n",
    "staging/b/contacts.sql": "SELECT 'b' AS provider, id FROM raw_b.contacts\n",
    "staging/b/orders.sql": "SELECT 'b' AS provider, id FROM raw_b.orders\n",
    "staging/b/contact_tags.sql": "SELECT 'b' AS provider, id FROM raw_b.contacts\n",
    "marts/everyone.sql": """
        -- materialized: table
        SELECT c.provider, c.id, 'staging."*_contacts"' AS note  -- staging."*_orders"
        FROM staging."*_contacts" AS c
        """,
    "marts/everything.sql": 'SELECT provider, id FROM staging."*_contacts|*_orders"\n',
}


@pytest.fixture()
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    load_raw(path, "raw_a.contacts", "id VARCHAR", [("a1",), ("a2",)])
    load_raw(path, "raw_b.contacts", "id VARCHAR", [("b1",)])
    load_raw(path, "raw_b.orders", "id VARCHAR", [("o1",)])
    return path


def test_a_pattern_is_the_union_of_the_models_it_matches_built_after_them(tmp_path: Path,
                                                                         warehouse: Path) -> None:
    root = write_tree(tmp_path / "transforms", PATTERNS)
    models = discover_models(root)
    assert models["crm.everyone"].depends_on == {"staging.a_contacts", "staging.b_contacts"}
    assert models["crm.everything"].depends_on == {"staging.a_contacts", "staging.b_contacts", "staging.b_orders"}
    order = build_order(models)
    for name in ("crm.everyone", "crm.everything"):  # crm.* sorts before staging.*: the order is the SQL's
        assert all(order.index(d) < order.index(name) for d in models[name].depends_on), order

    result = run_transforms(warehouse, root)

    assert result.status == "ok", result.error
    assert query(warehouse, "SELECT provider, id, note FROM crm.everyone ORDER BY id") == [
        ("a", "a1", 'staging."*_contacts"'), ("a", "a2", 'staging."*_contacts"'), ("b", "b1", 'staging."*_contacts"')]
    assert query(warehouse, "SELECT id FROM crm.everything ORDER BY id") == [("a1",), ("a2",), ("b1",), ("o1",)]


def test_a_pattern_that_matches_no_model_is_a_user_error_naming_the_models(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "transforms", {**PATTERNS, "marts/deals.sql": 'SELECT * FROM staging."*_deals"\n'})
    with pytest.raises(UserError) as refused:
        discover_models(root)
    message = str(refused.value)
    assert "deals.sql" in message and 'staging."*_deals" matches no model' in message
    assert "staging.a_contacts, staging.b_contact_tags, staging.b_contacts, staging.b_orders" in message


def test_the_registered_providers_are_accepted_values(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    root = write_tree(tmp_path / "transforms", {
        "staging/x/contacts.sql": "SELECT provider FROM raw_x.contacts\n",
        "staging/x/contacts.toml": '[tests]\naccepted_values = { provider = "registered providers" }\n',
    })
    assert discover_models(root)["staging.x_contacts"].tests[0].argument == registry.names()
    load_raw(warehouse, "raw_x.contacts", "provider VARCHAR", [(name,) for name in registry.names()])
    assert run_transforms(warehouse, root).status == "ok"

    load_raw(warehouse, "raw_x.contacts", "provider VARCHAR", [(registry.names()[0],), ("nobody",)])
    failed = run_transforms(warehouse, root)

    assert failed.status == "failed"
    assert [(t.status, t.failures, t.sample) for t in failed.tests] == [("fail", 1, [{"provider": "nobody"}])]


def test_accepted_values_are_a_list_or_the_registered_providers(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "transforms", {
        "staging/x/contacts.sql": "SELECT provider FROM raw_x.contacts\n",
        "staging/x/contacts.toml": '[tests]\naccepted_values = { provider = "every provider" }\n',
    })
    with pytest.raises(UserError, match='contacts.toml: .*accepted_values.*"registered providers"'):
        discover_models(root)


def test_a_project_without_staging_gets_the_registered_providers_staging_models(tmp_path: Path) -> None:
    marts_only = write_tree(tmp_path / "marts_only", {"marts/everyone.sql": 'SELECT * FROM staging."*_contacts"\n'})
    models = discover_models(marts_only)
    for provider in registry.providers():
        assert models[f"staging.{provider.name}_contacts"].path == provider.staging / "contacts.sql"
    assert models["crm.everyone"].depends_on == {f"staging.{name}_contacts" for name in registry.names()}

    own = write_tree(tmp_path / "own", {**PATTERNS})
    assert not any(name.startswith(f"staging.{provider}_") for name in discover_models(own)
                   for provider in registry.names())
    shipped = discover_models(DEFAULT_ROOT)
    assert {m.path.parent for m in shipped.values() if m.schema == "staging"} == \
        {p.staging for p in registry.providers()}


def test_a_folder_of_sql_that_is_no_layer_is_refused_naming_the_layers(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "transforms", {"core/people.sql": "SELECT 1 AS person_id\n"})
    with pytest.raises(UserError) as refused:
        discover_models(root)
    message = str(refused.value)
    assert str(root / "core") in message
    assert "staging, intermediate, marts" in message
