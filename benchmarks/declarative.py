"""The alternative a user would pick: dlt's declarative `rest_api_source`, configured the
obvious way for the same endpoints (merge on the primary key, the paginator the API calls for,
dlt's defaults for everything else: nesting, file format, extraction), into its own DuckDB."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dlt
from dlt.sources.rest_api import rest_api_source

from crmsync.benchmarks.endpoints import Endpoint, PagedApi

_PAGINATORS: dict[str, Any] = {
    "cursor": {"type": "cursor", "cursor_path": "next", "cursor_param": "after"},
    "page": {"type": "page_number", "base_page": 1, "page_param": "page", "total_path": None,
             "stop_after_empty_page": True},
    "single": "single_page",
}


def load(api: PagedApi, sandbox_url: str, workdir: Path) -> dlt.Pipeline:
    """Run the declarative source into a fresh DuckDB under `workdir`."""
    pipeline = dlt.pipeline(
        pipeline_name=f"bench_declarative_{api.provider}",
        destination=dlt.destinations.duckdb(str(workdir / "declarative.duckdb")),
        dataset_name=f"declarative_{api.provider}",
        pipelines_dir=str(workdir / "declarative_pipelines"),
    )
    pipeline.run(rest_api_source(config(api, sandbox_url), name=f"declarative_{api.provider}"))
    return pipeline


def config(api: PagedApi, sandbox_url: str) -> dict[str, Any]:
    names: dict[str, int] = {}
    resources = []
    for endpoint in api.endpoints:
        # Chatman's campaigns are one table read from several paths: one resource per path.
        names[endpoint.table] = names.get(endpoint.table, 0) + 1
        name = endpoint.table if names[endpoint.table] == 1 else f"{endpoint.table}_{names[endpoint.table]}"
        resources.append(_resource(name, endpoint, {e.table: e.key for e in api.endpoints}))
    return {
        "client": {"base_url": sandbox_url + api.prefix + "/", "headers": api.headers},
        "resource_defaults": {"write_disposition": "merge"},
        "resources": resources,
    }


def _resource(name: str, endpoint: Endpoint, keys: dict[str, str]) -> dict[str, Any]:
    spec: dict[str, Any] = {"path": endpoint.path, "method": endpoint.method, "params": dict(endpoint.params),
                            "paginator": _PAGINATORS[endpoint.paging]}
    if endpoint.paging == "cursor":
        spec["data_selector"] = "results"
    if endpoint.per_record_of:
        parent = endpoint.per_record_of
        spec["path"] = endpoint.path.replace("{id}", f"{{resources.{parent}.{keys[parent]}}}")
        spec["response_actions"] = [{"status_code": 404, "action": "ignore"}]
    resource = {"name": name, "table_name": endpoint.table, "primary_key": endpoint.key, "endpoint": spec}
    if endpoint.per_record_of and endpoint.key == f"_{endpoint.per_record_of}_{keys[endpoint.per_record_of]}":
        # The answer is one record that lacks its parent's id: take it whole (not the list inside
        # it dlt would pick), with the parent's id beside it.
        resource["include_from_parent"] = [keys[endpoint.per_record_of]]
        spec["data_selector"] = "$"
    return resource
