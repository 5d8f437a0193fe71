"""paging.side_by_side: listings read at once, handed over one after the other, failures raised
where their items would have come."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from crmsync.sources.common.paging import side_by_side

PAGE_SECONDS = 0.1


def slow_listing(name: str, pages: int, fail_at: int | None = None) -> Iterator[str]:
    for number in range(pages):
        if number == fail_at:
            raise RuntimeError(f"{name} failed at page {number}")
        time.sleep(PAGE_SECONDS)  # the API's answer time
        yield f"{name}{number}"


def test_listings_are_read_at_once_and_handed_over_in_order() -> None:
    started = time.monotonic()
    read = [list(pages) for pages in side_by_side(
        [lambda name=name: slow_listing(name, 4) for name in "abc"], width=3, ahead=4)]
    elapsed = time.monotonic() - started
    assert read == [[f"{name}{n}" for n in range(4)] for name in "abc"]
    assert elapsed < 2 * 4 * PAGE_SECONDS < 3 * 4 * PAGE_SECONDS  # one after another: 1.2 s


def test_a_failing_listing_fails_where_its_pages_would_come() -> None:
    listings = side_by_side([lambda: slow_listing("a", 2), lambda: slow_listing("b", 3, fail_at=1)],
                            width=2, ahead=1)
    assert list(next(listings)) == ["a0", "a1"]
    with pytest.raises(RuntimeError, match="b failed at page 1"):
        list(next(listings))
