"""One provider resource: generated records plus the changes made since.

Record k (0 <= k < n_base) is generated on demand by `make(k)`; records created later get
k >= n_base and are kept in memory, as are updated ones. Generated records' timestamps grow
with k (see `clock.Timeline`) and every change is stamped later than all of them, so each
listing order is "generated records in k order, then changed records by their stamp":
no listing ever sorts the whole table.

A page's generated records are built together by `make_many` when the provider has one
(one numpy pass over the page's ks is much cheaper than a record at a time); it must give
exactly the records `make` gives.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from crmsync.sandbox.clock import Timeline

Record = dict[str, Any]
Key = tuple[int, str]  # (timestamp ms, id as text): the keyset order of every listing


class Table:
    def __init__(
        self,
        n_base: int,
        make: Callable[[int], Record],
        id_of: Callable[[int], Any],
        timeline: Timeline,
        make_many: Callable[[list[int]], list[Record]] | None = None,
    ) -> None:
        self.n_base = n_base
        self.make = make
        self.make_many = make_many or (lambda ks: [make(k) for k in ks])
        self.id_of = id_of
        self.timeline = timeline
        self._changed: dict[int, Record] = {}
        self._created_ms: dict[int, int] = {}  # k >= n_base
        self._updated_ms: dict[int, int] = {}  # every changed or created k
        self._deleted_base = np.zeros(n_base, dtype=bool)
        self._deleted: set[int] = set()
        self._n_created = 0
        self._cache: dict[str, Any] = {}

    # -- reading ------------------------------------------------------------------------
    def __len__(self) -> int:
        return self.n_base + self._n_created - len(self._deleted)

    def exists(self, k: int) -> bool:
        return 0 <= k < self.n_base + self._n_created and k not in self._deleted

    def get(self, k: int) -> Record | None:
        if not self.exists(k):
            return None
        changed = self._changed.get(k)
        return changed if changed is not None else self.make(k)

    def alive(self) -> np.ndarray:
        """Every live k in creation order."""
        if "alive" not in self._cache:
            base = np.flatnonzero(~self._deleted_base)
            created = [k for k in range(self.n_base, self.n_base + self._n_created)
                       if k not in self._deleted]
            self._cache["alive"] = np.concatenate([base, np.array(created, dtype=np.int64)])
        return self._cache["alive"]

    def is_changed(self, k: int) -> bool:
        """Whether live record k is no longer the generated one (updated or created)."""
        return k in self._changed

    def changed_ks(self) -> np.ndarray:
        """The ks of `is_changed`, ascending."""
        if "changed" not in self._cache:
            self._cache["changed"] = np.array(sorted(self._changed), dtype=np.int64)
        return self._cache["changed"]

    def records(self, ks: Iterable[int] | np.ndarray) -> list[Record]:
        """The live records among `ks`, in that order; the generated ones built in a batch."""
        ks = [int(k) for k in ks]
        fresh = [k for k in ks if 0 <= k < self.n_base and k not in self._changed
                 and not self._deleted_base[k]]
        made = dict(zip(fresh, self.make_many(fresh)))
        out = []
        for k in ks:
            record = made.get(k) or self.get(k)
            if record is not None:
                out.append(record)
        return out

    def created_ms(self, k: int) -> int:
        return self._created_ms[k] if k >= self.n_base else self.timeline.created_ms(k)

    def updated_ms(self, k: int) -> int:
        ms = self._updated_ms.get(k)
        return ms if ms is not None else self.timeline.updated_ms(k)

    # -- writing ------------------------------------------------------------------------
    def put(self, k: int, record: Record, updated_ms: int) -> None:
        """Replace live record k (an update); it now sorts by `updated_ms`."""
        if not self.exists(k):
            raise KeyError(k)
        self._changed[k] = record
        self._updated_ms[k] = updated_ms
        self._cache.pop("updated", None)
        self._cache.pop("changed", None)

    def create(self, build: Callable[[int], Record], created_ms: int, updated_ms: int | None = None) -> int:
        """Append a record built by `build(k)` for its new k, last updated at its creation
        unless `updated_ms` says otherwise (never within the generated history)."""
        k = self.n_base + self._n_created
        self._n_created += 1
        self._created_ms[k] = created_ms
        self._updated_ms[k] = created_ms if updated_ms is None else updated_ms
        self._changed[k] = build(k)
        self._cache.clear()
        return k

    def delete(self, k: int) -> None:
        if not self.exists(k):
            raise KeyError(k)
        self._deleted.add(k)
        self._changed.pop(k, None)
        self._updated_ms.pop(k, None)
        if k < self.n_base:
            self._deleted_base[k] = True
        self._cache.clear()

    # -- listing ------------------------------------------------------------------------
    def page(self, offset: int, limit: int, newest_first: bool = False) -> list[Record]:
        """Offset paging in creation order (oldest first unless `newest_first`)."""
        alive = self.alive()
        if newest_first:
            stop = max(len(alive) - offset, 0)
            ks = alive[max(stop - limit, 0):stop][::-1]
        else:
            ks = alive[offset:offset + limit]
        return self.records(ks)

    def scan(
        self,
        order: str,
        limit: int,
        after: Key | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
    ) -> tuple[list[Record], Key | None]:
        """Keyset paging by ("created" or "updated" ms, id), within [start_ms, end_ms).

        Returns the page and the key to continue after, or None when nothing is left.
        """
        base, tail = self._ordered(order)
        lo, hi = self._window(base, order, start_ms, end_ms)
        if after is not None:
            lo = max(lo, bisect.bisect_right(base, after[0], key=self._stamp(order)))
        ks = base[lo:min(hi, lo + limit + 1)].tolist()
        if len(ks) <= limit:
            t_lo = 0 if after is None else bisect.bisect_right(tail, (after[0], after[1], 1 << 62))
            for key_ms, _key_id, k in tail[t_lo:]:
                if start_ms is not None and key_ms < start_ms:
                    continue
                if end_ms is not None and key_ms >= end_ms:
                    break
                ks.append(k)
                if len(ks) > limit:
                    break
        more = len(ks) > limit
        ks = ks[:limit]
        next_key = self.key(order, ks[-1]) if more and ks else None
        return self.records(ks), next_key

    def count(self, order: str, start_ms: int | None = None, end_ms: int | None = None) -> int:
        """How many live records `scan` walks through in [start_ms, end_ms)."""
        if start_ms is None and end_ms is None:
            return len(self)
        base, tail = self._ordered(order)
        lo, hi = self._window(base, order, start_ms, end_ms)
        in_tail = sum(1 for ms, _id, _k in tail
                      if (start_ms is None or ms >= start_ms) and (end_ms is None or ms < end_ms))
        return max(hi - lo, 0) + in_tail

    def key(self, order: str, k: int) -> Key:
        """Record k's place in the `order` listing."""
        return self._stamp(order)(k), str(self.id_of(k))

    def _stamp(self, order: str) -> Callable[[Any], int]:
        stamp = self.created_ms if order == "created" else self.updated_ms
        return lambda k: stamp(int(k))

    def _window(self, base: np.ndarray, order: str, start_ms: int | None,
                end_ms: int | None) -> tuple[int, int]:
        """The slice of the generated ks stamped within [start_ms, end_ms) (found by bisection:
        their stamps grow with k)."""
        stamp = self._stamp(order)
        lo = 0 if start_ms is None else bisect.bisect_left(base, start_ms, key=stamp)
        hi = len(base) if end_ms is None else bisect.bisect_left(base, end_ms, key=stamp)
        return lo, hi

    def _ordered(self, order: str) -> tuple[np.ndarray, list[tuple[int, str, int]]]:
        """Generated ks still in their generated place, then the moved ones by key."""
        if order not in self._cache:
            if order == "created":
                base = np.flatnonzero(~self._deleted_base)
                moved = [k for k in self._created_ms if k not in self._deleted]
            elif order == "updated":
                keep = ~self._deleted_base
                changed_base = [k for k in self._updated_ms if k < self.n_base]
                keep[changed_base] = False
                base = np.flatnonzero(keep)
                moved = list(self._updated_ms)
            else:
                raise ValueError(order)
            tail = sorted((*self.key(order, k), k) for k in moved)
            self._cache[order] = (base, tail)
        return self._cache[order]
