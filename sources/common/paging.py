"""The paging styles of the contract: cursor (`after`), page number, offset, none."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from crmsync.sources.common.http import ApiClient


def cursor_pages(client: ApiClient, path: str, params: dict[str, Any],
                 results_key: str = "results", next_key: str = "next",
                 cursor_param: str = "after") -> Iterator[list[dict[str, Any]]]:
    """Follow `next` cursors until there is none (Chatman). The next page is asked for as soon
    as its cursor is read, so it travels while the caller converts this one."""
    query = dict(params)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(client.get_json, path, dict(query))
        while True:
            body = pending.result()
            cursor = body.get(next_key)
            if cursor:
                query[cursor_param] = cursor
                pending = pool.submit(client.get_json, path, dict(query))
            yield body.get(results_key) or []
            if not cursor:
                return


def numbered_pages(fetch: Callable[[int], list[dict[str, Any]]], concurrency: int,
                   first: int = 1, full_page: int | None = None) -> Iterator[list[dict[str, Any]]]:
    """Pages first, first+1, ... yielded in order, with `concurrency` pages always in flight
    (the next is asked for as one is handed out, so fetching overlaps the caller's work), until
    an empty page (Whautomate: a bare array, no total) or, when `full_page` is given, a page
    shorter than that (Chatrace offsets: the caller maps page numbers to offsets)."""
    width = max(concurrency, 1)
    with ThreadPoolExecutor(max_workers=width) as pool:
        ahead = deque(pool.submit(fetch, number) for number in range(first, first + width))
        following = first + width
        while True:
            page = ahead.popleft().result()
            if not page:
                return
            ahead.append(pool.submit(fetch, following))
            following += 1
            yield page
            if full_page is not None and len(page) < full_page:
                return


def fetch_each(pool: ThreadPoolExecutor, fetch: Callable[[Any], Any], items: Sequence[Any],
               batch_size: int) -> Iterator[list[tuple[Any, Any]]]:
    """(item, answer) pairs, `batch_size` items at a time, fetched by the pool's workers: the
    one-request-per-record reads of the APIs that cannot list (DM Champ, Chatrace)."""
    for start in range(0, len(items), batch_size):
        batch = items[start:start + batch_size]
        yield list(zip(batch, pool.map(fetch, batch)))
