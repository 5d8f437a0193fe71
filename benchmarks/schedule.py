"""Whether an incremental run fits its schedule at the provider's real rate (issue #17).

On loopback a run is bound by crmsync's own work; at an account's rate limit it is bound by
its requests. At SCHEDULE_PEOPLE a rerun at 10 requests a second takes hours for the providers
read record by record, so the rate-bound part is computed as requests ÷ rate, the requests
measured at the bench's size and scaled to SCHEDULE_PEOPLE in proportion (a run's requests grow
with the people it reads). A budgeted provider (one with a `run_budget` setting) reruns with its
derived budget scaled down the same way, so the measured requests are the budget's.

`requests_vs_floor` divides the rerun's requests by the fewest any client of that API needs to
see the changes, computed per provider from its configured page size, what the warehouse holds
after the rerun and the rows the rerun loaded (FLOORS).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crmsync.benchmarks.figures import Figure, at_most, reported
from crmsync.kernel.warehouse import open_warehouse, relations
from crmsync.sources import registry
from crmsync.sources.common.budget import RUN_SHARE, refresh_bound_runs, schedule_seconds
from crmsync.sources.whautomate import LISTINGS as WHAUTOMATE_LISTINGS
from crmsync.sources.whautomate.helpers import listing_pages

SQL = Path(__file__).parent / "sql"
SCHEDULE_PEOPLE = 100_000
FIT_TARGET = 1.0
FLOOR_TARGET = 1.1


def configured(provider: str, key: str) -> Any:
    """The value the provider's settings give a real account (its default)."""
    return next(s.default for s in registry.provider(provider).settings if s.key == key)


def configured_rate(provider: str) -> float:
    return float(configured(provider, "requests_per_second"))


def budget_env(provider: str, contacts: int) -> dict[str, str]:
    """The rerun's `run_budget` for a budgeted provider: the one derived at SCHEDULE_PEOPLE from
    the configured rate and the schedule, scaled to the bench's `contacts`."""
    if not any(s.key == "run_budget" for s in registry.provider(provider).settings):
        return {}
    derived = schedule_seconds(provider) * configured_rate(provider) * RUN_SHARE
    return {f"SOURCES__{provider.upper()}__RUN_BUDGET": str(max(1, int(derived * contacts / SCHEDULE_PEOPLE)))}


@dataclass(frozen=True)
class Rerun:
    """What the floor of a provider is computed from: the rerun's requests, the rows it loaded
    per table, its warehouse, and per budgeted resource (records, chosen) from ops.confirmed."""

    requests: int
    loaded: Mapping[str, int]
    warehouse: Path
    plans: Mapping[str, tuple[int, int]]

    def live(self, provider: str, table: str) -> int:
        """The live rows of raw_<provider>.<table>."""
        return self.per_value("floor_live_rows", provider=provider, table=table)[0]

    def per_value(self, name: str, **names: str) -> list[int]:
        """The counts benchmarks/sql/<name>.sql answers ({names} filled in: ours)."""
        with open_warehouse(self.warehouse, read_only=True) as con:
            return [int(n) for (n,) in con.execute((SQL / f"{name}.sql").read_text().format(**names)).fetchall()]


def schedule_figures(provider: str, requests: int, seconds: float, contacts: int, warehouse: Path,
                     loaded: Mapping[str, int]) -> list[Figure]:
    """`schedule.<provider>.fit`, `.requests_vs_floor` and `.staleness_hours` (and under the
    naive plan) of a rerun that made `requests` in `seconds` at `contacts` people, into
    `warehouse`, loading `loaded` rows per table."""
    scale = SCHEDULE_PEOPLE / contacts
    rate, interval = configured_rate(provider), schedule_seconds(provider)
    wall = requests * scale / rate + seconds * scale
    name = f"schedule.{provider}"
    rerun = Rerun(requests, loaded, warehouse, _refreshed(warehouse, provider))
    # Records a budget read because the provider said they changed are not its capacity.
    anyway = {resource: loaded.get(table, 0) for resource, table in READ_ANYWAY.get(provider, {}).items()}
    plans = {resource: (records, chosen - anyway.get(resource, 0))
             for resource, (records, chosen) in rerun.plans.items()}
    skipped = sum(records - chosen for records, chosen in plans.values())
    naive_wall = wall + skipped * scale / rate
    at = (f"rerun after 1% churn: {requests} requests at {contacts:,} contacts, scaled to {SCHEDULE_PEOPLE:,} "
          f"people: {requests * scale:,.0f} requests ÷ {rate:g}/s (computed, not run in real time: hours) "
          f"+ crmsync's own {seconds * scale:,.0f} s; interval {interval:,.0f} s")
    figures = [at_most(f"{name}.fit", wall / interval, "x", FIT_TARGET, at)]
    if provider in FLOORS:
        least, how = FLOORS[provider](provider, rerun)
        figures.append(at_most(f"{name}.requests_vs_floor", requests / least, "x", FLOOR_TARGET,
                               f"{requests} requests / floor {least}: {how}; at {contacts:,} contacts"))
    if plans:
        runs = max(1 if chosen >= records else refresh_bound_runs(records, max(chosen, 1))
                   for records, chosen in plans.values())
        figures.append(reported(f"{name}.staleness_hours", runs * max(interval, wall) / 3600, "h",
                                f"budgeted: every record re-checked within {runs} runs "
                                f"({', '.join(f'{r} {c} of {n}' for r, (n, c) in plans.items())} a run"
                                + "".join(f", besides the {r} of the {n} records the listing showed changed" for r, n in anyway.items())
                                + ")"))
    else:
        figures.append(reported(f"{name}.staleness_hours", max(interval, wall) / 3600, "h",
                                "every record every run: one interval, or the run when longer"))
    figures.append(reported(f"{name}.naive.staleness_hours", max(interval, naive_wall) / 3600, "h",
                            f"every record every run: {naive_wall:,.0f} s a run"
                            + (f" ({skipped * scale:,.0f} requests more than the budget)" if plans else "")))
    return figures


def _pages(records: int, page_size: int) -> int:
    """A listing that answers `next: null` on its last page: at least one page."""
    return max(1, math.ceil(records / page_size))


def _chatman(provider: str, rerun: Rerun) -> tuple[int, str]:
    size = int(configured(provider, "page_size"))
    changed = rerun.loaded.get("contacts", 0)
    # Two windows (mode=new on created_at, mode=modified on modified_at: the contract does not
    # say a new contact is in the modified one), a page each, more only past a page of changes.
    windows = 2 + _pages(changed, size) - 1 + _pages(rerun.loaded.get("triggered_events", 0), size)
    campaigns = [_pages(n, size) for n in rerun.per_value("floor_chatman_campaigns")]
    segments = rerun.live(provider, "segments")
    rest = _pages(segments, size) + segments + _pages(rerun.live(provider, "journeys"), size) + 1
    return windows + sum(campaigns) + rest, (
        f"the windows by time {windows} (contacts new and modified, triggered events) + every page of the "
        f"{len(campaigns)} campaigns with events {sum(campaigns)} (no time filter) + what has no filter either: "
        f"segments, one evaluate per segment ({segments}), journeys, event types {rest}; page size {size}")


def _waabot(provider: str, rerun: Rerun) -> tuple[int, str]:
    return 3, ("one login (POST /sessions: the contract gives the refresh token no lifetime to keep it by) "
               "+ the one unpaged listing of contacts + of contact groups")


def _whautomate(provider: str, rerun: Rerun) -> tuple[int, str]:
    # The listing shows which contacts changed, but the contract does not say a new message
    # moves a contact's updatedAt: to see every new message a client must read every live
    # contact's messages, as DM Champ's and Chatrace's records (the issue counts Whautomate's
    # messages among what cannot tell what changed).
    size = int(configured(provider, "page_size"))
    live = {table: rerun.live(provider, table) for table in WHAUTOMATE_LISTINGS}
    pages = {table: listing_pages(rows, size) for table, rows in live.items()}
    contacts, changed = live["contacts"], rerun.loaded.get("contacts", 0)
    floor = sum(pages.values()) + contacts
    if_updated = sum(pages.values()) + changed
    return floor, (
        f"every page ({', '.join(f'{t} {n}' for t, n in pages.items())}: live rows ÷ {size} and the empty page "
        f"that ends a listing) + the messages of every one of the {contacts} live contacts; were a new "
        f"message to move updatedAt (the contract does not say so), the floor would be the pages + the "
        f"{changed} changed contacts' messages = {if_updated}, and this run {rerun.requests / if_updated:.2f}x "
        f"it: the run budget's re-reads of unchanged contacts' messages are the difference")


def _every_record(provider: str, rerun: Rerun) -> tuple[int, str]:
    # This API cannot tell what changed: to see every change a client must re-read every
    # record, so the floor is the run's requests plus the re-reads the budget deferred.
    skipped = sum(records - chosen for records, chosen in rerun.plans.values())
    return rerun.requests + skipped, "every record re-read, as no client of this API can tell what changed"


FLOORS: dict[str, Callable[[str, Rerun], tuple[int, str]]] = {
    "chatman": _chatman, "waabot": _waabot, "whautomate": _whautomate,
    "dmchamp": _every_record, "chatrace": _every_record,
}
# Per provider, the budgeted resources that read, besides the budget's choice, a record for each
# row the rerun loaded into a table: Whautomate's messages, of every contact its listing changed.
READ_ANYWAY = {"whautomate": {"messages": "contacts"}}


def _refreshed(warehouse: Path, provider: str) -> dict[str, tuple[int, int]]:
    """Per budgeted resource of the latest run: (records, chosen), from ops.confirmed."""
    with open_warehouse(warehouse, read_only=True) as con:
        if "ops.confirmed" not in relations(con):
            return {}
        rows = con.execute((SQL / "schedule_refreshed.sql").read_text(), {"provider": provider}).fetchall()
    return {resource: (int(records), int(chosen)) for resource, records, chosen in rows}
