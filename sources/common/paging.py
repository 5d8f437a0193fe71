"""The paging styles of the contract: cursor (`after`), page number, offset, none.

Every listing stops: a cursor handed out twice, a page identical to the one before, or more
pages or records than the provider's `max_pages`/`max_records` fail it (a server looping on
its cursor would otherwise be read, and loaded, forever). Only the previous page and the
cursors are kept, so memory stays flat however long a listing runs.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from crmsync.sources.common.http import ApiClient, RequestFailed


class Listing:
    """The checks of one listing, page by page, against its client's bounds."""

    def __init__(self, client: ApiClient, path: str) -> None:
        self.provider = client.provider
        self.where = f"{client.provider}: GET {path}"
        self.bounds = client.bounds
        self.pages = 0
        self.records = 0
        self._cursors: set[str] = set()  # at most max_pages of them
        self._previous: list[dict[str, Any]] | None = None

    def page(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """`records`, the listing's next page, once it is within bounds."""
        self.pages += 1
        self.records += len(records)
        if self.pages > self.bounds.max_pages:
            raise self._stopped(f"went past sources.{self.provider}.max_pages ({self.bounds.max_pages} pages)")
        if self.records > self.bounds.max_records:
            raise self._stopped(f"went past sources.{self.provider}.max_records "
                                f"({self.bounds.max_records} records, at page {self.pages})")
        if records and records == self._previous:
            raise self._stopped(f"answered page {self.pages} identical to the one before")
        self._previous = records
        return records

    def cursor(self, cursor: str) -> None:
        """The cursor of the next page, once it is one not handed out before."""
        if cursor in self._cursors:
            raise self._stopped(f"handed out the cursor of an earlier page again (after page {self.pages})")
        self._cursors.add(cursor)

    def envelope(self, body: Any, results_key: str, next_key: str) -> tuple[list[dict[str, Any]], Any]:
        """(records, next cursor) of a cursor page: an object with a list (none: an empty page)."""
        if not isinstance(body, dict):
            found = f"a JSON {type(body).__name__}"
        else:
            records, cursor = body.get(results_key) or [], body.get(next_key)
            if isinstance(records, list) and isinstance(cursor, str | int | None):
                return records, cursor
            found = f"'{results_key}' as {type(records).__name__}, '{next_key}' as {type(cursor).__name__}"
        raise RequestFailed(f"{self.where} page {self.pages + 1} answered {found}; expected an object with "
                            f"a '{results_key}' list and a '{next_key}' cursor")

    def _stopped(self, why: str) -> RequestFailed:
        return RequestFailed(f"{self.where} {why}: stopped, the listing would not end")


def cursor_pages(client: ApiClient, path: str, params: dict[str, Any],
                 results_key: str = "results", next_key: str = "next",
                 cursor_param: str = "after") -> Iterator[list[dict[str, Any]]]:
    """Follow `next` cursors until there is none (Chatman). The next page is asked for as soon
    as its cursor is read, so it travels while the caller converts this one."""
    query = dict(params)
    listing = Listing(client, path)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(client.get_json, path, dict(query))
        while True:
            records, cursor = listing.envelope(pending.result(), results_key, next_key)
            listing.page(records)
            if cursor:
                listing.cursor(str(cursor))
                query[cursor_param] = cursor
                pending = pool.submit(client.get_json, path, dict(query))
            yield records
            if not cursor:
                return


def numbered_pages(fetch: Callable[[int], list[dict[str, Any]]], concurrency: int, listing: Listing,
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
            listing.page(page)
            ahead.append(pool.submit(fetch, following))
            following += 1
            yield page
            if full_page is not None and len(page) < full_page:
                return


def get_each(client: ApiClient, items: Sequence[Any], path_of: Callable[[Any], str], concurrency: int,
             batch_size: int) -> Iterator[list[tuple[Any, Any]]]:
    """(item, answer, or None when the provider answers 404) pairs, `batch_size` items at a
    time, one GET each, `concurrency` in flight: the one-request-per-record reads of the APIs
    that cannot list (DM Champ, Chatrace)."""
    with ThreadPoolExecutor(max(concurrency, 1)) as pool:
        for start in range(0, len(items), batch_size):
            batch = items[start:start + batch_size]
            yield list(zip(batch, pool.map(lambda item: client.get_json(path_of(item), accept=(404,)), batch)))


T = TypeVar("T")


@dataclass(frozen=True)
class _End:
    error: BaseException | None


def side_by_side(listings: Sequence[Callable[[], Iterable[T]]], width: int,
                 ahead: int) -> Iterator[Iterator[T]]:
    """Each listing's items, one listing after the other (consume each fully before the next),
    while up to `width` listings are read at once, each at most `ahead` items ahead of the
    caller: listings with no time filter (Chatman's campaigns) then cost the slowest one's
    pages, not the sum. A listing's failure is raised where its items would have come."""
    queues: list[queue.Queue] = [queue.Queue(max(ahead, 1)) for _ in listings]
    stop = threading.Event()

    def put(box: queue.Queue, item: Any) -> bool:
        while not stop.is_set():
            try:
                box.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read(index: int) -> None:
        try:
            for item in listings[index]():
                if not put(queues[index], item):
                    return
            put(queues[index], _End(None))
        except BaseException as error:  # noqa: BLE001 - handed to the caller, raised there
            put(queues[index], _End(error))

    def drain(box: queue.Queue) -> Iterator[T]:
        while not isinstance(item := box.get(), _End):
            yield item
        if item.error is not None:
            raise item.error

    pool = ThreadPoolExecutor(max(width, 1))
    try:
        for index in range(len(listings)):  # in order: the listing the caller is on always runs
            pool.submit(read, index)
        for box in queues:
            yield drain(box)
    finally:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
