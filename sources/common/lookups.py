"""Look-ups of known people, one request per phone or email (DM Champ, Chatrace), and how
many of them the provider refused.

A refusal (a 4xx other than 404) means the provider judged that phone or email invalid: a
miss, not a failure. But a provider refusing most of a run's look-ups has a problem with the
key, the format or its API, not that many invalid people: past the provider's
`lookup_refused_share` (once at least `lookup_refused_min` were refused) the run fails.

Who is asked (`to_look_up`): every person never asked, and the people not found before whose
`recheck_missing_hours` passed. Those re-checks share the run's request budget
(`sources.common.budget`): past the hours every miss of a large import would fall due at once,
so a run re-checks, the longest missed first, only as many as RECHECK_SHARE of what is left of
its budget allows (at least MIN_RECORDS), the rest waiting for the next runs. Each run takes the
oldest misses and a re-checked miss goes behind them: with m due misses and r re-checked a run,
every miss is asked again within ceil(m / r) runs after its hours.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from crmsync.sources.common.budget import MIN_RECORDS
from crmsync.sources.common.http import ApiClient, RequestFailed
from crmsync.sources.common import known_people

Person = TypeVar("Person")
Answer = TypeVar("Answer")
REFUSED = object()  # what Refusals.ask answers for a look-up the provider refused
RECHECK_SHARE = 0.5  # of what is left of a run's budget that re-checks of misses may spend


class Refusals:
    """A run's look-ups through one client, counted across the threads that ask."""

    def __init__(self, client: ApiClient) -> None:
        self.client = client
        self.asked = 0
        self.refused = 0
        self.first: str | None = None  # the first refusal's message (the HTTP layer scrubbed it)
        self._lock = threading.Lock()

    def ask(self, path: str, params: dict[str, Any], accept: tuple[int, ...] = ()) -> Any:
        """The parsed answer, or REFUSED."""
        try:
            answer = self.client.get_json(path, params, accept=accept)
        except RequestFailed as error:
            if error.status is None or not 400 <= error.status < 500 or error.status == 404:
                raise
            with self._lock:
                self.asked += 1
                self.refused += 1
                self.first = self.first or str(error)
            return REFUSED
        with self._lock:
            self.asked += 1
        return answer

    def check(self) -> None:
        bounds, provider = self.client.bounds, self.client.provider
        if self.refused >= bounds.lookup_refused_min and \
                self.refused > bounds.lookup_refused_share * self.asked:
            raise RequestFailed(f"{provider}: {self.refused} of {self.asked} look-ups refused, more than "
                                f"sources.{provider}.lookup_refused_share ({bounds.lookup_refused_share:g}); "
                                f"the first: {self.first}")


def look_up_all(client: ApiClient, people: Sequence[Person], look_up: Callable[[Refusals, Person], Answer],
                concurrency: int) -> list[Answer]:
    """`look_up` of every person, `concurrency` at a time; fails when the provider refused
    too many of the look-ups (Refusals.check)."""
    refusals = Refusals(client)
    with ThreadPoolExecutor(max(concurrency, 1)) as pool:
        answers = list(pool.map(lambda person: look_up(refusals, person), people))
    refusals.check()
    return answers


def to_look_up(people: Sequence[known_people.Person], missed_at: Mapping[str, datetime], recheck: timedelta,
               budget: int | None, spent: int) -> list[known_people.Person]:
    """Of `people` (none yet found), those to ask this run: the never asked, then the misses
    older than `recheck`, the longest missed first, as far as RECHECK_SHARE of what is left of
    `budget` (None: no bound) after `spent` and the new people goes. A miss costs one request
    per phone and email (all are tried)."""
    now = datetime.now(timezone.utc)
    new = [p for p in people if p.key not in missed_at]
    due = sorted((p for p in people if p.key in missed_at and now - missed_at[p.key] >= recheck),
                 key=lambda p: (missed_at[p.key], p.key))
    if budget is None:
        return new + due
    left = RECHECK_SHARE * (budget - spent - sum(len(p.values()) for p in new))
    chosen: list[known_people.Person] = []
    for person in due:
        left -= len(person.values())
        if left < 0 and len(chosen) >= MIN_RECORDS:
            break
        chosen.append(person)
    return new + chosen
