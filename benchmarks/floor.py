"""The floor: one plain sequential httpx loop fetching the pages a sync reads and parsing their
JSON, nothing else (no rows built, nothing written). What the API itself costs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import orjson

from crmsync.benchmarks.endpoints import Endpoint, PagedApi


def fetch_all(api: PagedApi, sandbox_url: str) -> int:
    """Read every endpoint of `api` once, in order; answer the records read."""
    parents = {e.per_record_of for e in api.endpoints if e.per_record_of}
    ids: dict[str, list[str]] = {}
    records = 0
    with httpx.Client(base_url=sandbox_url + api.prefix + "/", headers=api.headers, timeout=60) as client:
        for endpoint in api.endpoints:
            for page in _pages(client, endpoint, ids):
                records += len(page)
                if endpoint.table in parents:
                    ids.setdefault(endpoint.table, []).extend(str(r[endpoint.key]) for r in page)
    return records


def _pages(client: httpx.Client, endpoint: Endpoint, ids: dict[str, list[str]]) -> Iterator[list[Any]]:
    if endpoint.per_record_of:
        for record_id in ids.get(endpoint.per_record_of, []):
            body = _get(client, endpoint.path.format(id=record_id), endpoint.params, accept_404=True,
                        method=endpoint.method)
            yield body if isinstance(body, list) else [body] if body else []  # evaluate: one record
    elif endpoint.paging == "single":
        body = _get(client, endpoint.path, endpoint.params)
        yield body.get("results", []) if isinstance(body, dict) else body
    elif endpoint.paging == "cursor":
        query = dict(endpoint.params)
        while True:
            body = _get(client, endpoint.path, query)
            yield body["results"]
            if not body.get("next"):
                return
            query["after"] = body["next"]
    elif endpoint.paging == "page":
        page = 1
        while body := _get(client, endpoint.path, {**endpoint.params, "page": page}):
            yield body
            page += 1
    else:
        raise ValueError(f"unknown paging {endpoint.paging!r}")


def _get(client: httpx.Client, path: str, params: dict[str, Any], accept_404: bool = False,
         method: str = "GET") -> Any:
    response = client.request(method, path, params=params)
    if accept_404 and response.status_code == 404:
        return None
    response.raise_for_status()
    return orjson.loads(response.content)
