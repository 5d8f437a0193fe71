"""Random streams for generated records, one per record, at little more than the seeding.

A generated record draws from `random.Random(its seed)`. Building a Random object costs more
than the draws a record makes, so `Streams` reseeds one generator in place with the same C
seeding `random.Random(x)` runs for an int x: after `seed(x)`, `rng` (and `below`, `random`)
give exactly the numbers `random.Random(x)` would (`gauss` aside, which nothing here uses).
"""

from __future__ import annotations

import _random
import random
from collections.abc import Sequence
from functools import partial
from typing import TypeVar

T = TypeVar("T")

_SEED = _random.Random.seed  # what random.Random.seed does for an int, without the checks


class Streams:
    def __init__(self) -> None:
        self.rng = random.Random()
        self.seed = partial(_SEED, self.rng)  # no Python frame: it runs once per record
        self.random = self.rng.random
        self._bits = self.rng.getrandbits

    def below(self, n: int) -> int:
        """`Random._randbelow(n)`, the draw behind `choice`, `randrange` and `randint`."""
        k = n.bit_length()
        r = self._bits(k)
        while r >= n:
            r = self._bits(k)
        return r

    def choice(self, seq: Sequence[T]) -> T:
        """`Random.choice`."""
        return seq[self.below(len(seq))]

    def sample(self, seq: Sequence[T], k: int) -> list[T]:
        """`Random.sample` of a population of at most 21, where it draws from a shrinking pool."""
        n = len(seq)
        if n > 21 or not 0 <= k <= n:
            raise ValueError("sample of at most 21 items, k within them")
        pool = list(seq)
        result = []
        for i in range(k):
            j = self.below(n - i)
            result.append(pool[j])
            pool[j] = pool[n - i - 1]
        return result
