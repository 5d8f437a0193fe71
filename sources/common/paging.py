"""The paging styles of the contract: cursor (`after`), page number, offset, none."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sources.common.http import ApiClient


def cursor_pages(client: ApiClient, path: str, params: dict[str, Any],
                 results_key: str = "results", next_key: str = "next",
                 cursor_param: str = "after") -> Iterator[list[dict[str, Any]]]:
    """Follow `next` cursors until there is none (Chatman)."""
    query = dict(params)
    while True:
        body = client.get_json(path, query)
        yield body.get(results_key) or []
        cursor = body.get(next_key)
        if not cursor:
            return
        query[cursor_param] = cursor


def numbered_pages(fetch: Callable[[int], list[dict[str, Any]]], concurrency: int,
                   first: int = 1, full_page: int | None = None) -> Iterator[list[dict[str, Any]]]:
    """Pages first, first+1, ... fetched `concurrency` at a time, yielded in order, until an
    empty page (Whautomate: a bare array, no total) or, when `full_page` is given, a page
    shorter than that (Chatrace offsets: the caller maps page numbers to offsets)."""
    with ThreadPoolExecutor(max_workers=max(concurrency, 1)) as pool:
        number = first
        while True:
            batch = list(pool.map(fetch, range(number, number + concurrency)))
            for page in batch:
                if not page:
                    return
                yield page
                if full_page is not None and len(page) < full_page:
                    return
            number += concurrency


def fetch_each(pool: ThreadPoolExecutor, fetch: Callable[[Any], Any], items: Sequence[Any],
               batch_size: int) -> Iterator[list[tuple[Any, Any]]]:
    """(item, answer) pairs, `batch_size` items at a time, fetched by the pool's workers: the
    one-request-per-record reads of the APIs that cannot list (DM Champ, Chatrace)."""
    for start in range(0, len(items), batch_size):
        batch = items[start:start + batch_size]
        yield list(zip(batch, pool.map(fetch, batch)))
