"""Request budgets for what a provider can only refresh record by record.

DM Champ cannot tell what changed: each run would re-read every live contact's tags and
messages, and at a real rate limit that outgrows the schedule (100,000 contacts at 10
requests a second: 5.5 hours a run). A budgeted resource instead refreshes, each run, as many
records as its share of `sources.<provider>.run_budget` requests allows (0: half the sync
schedule's interval, `flow.sync_cron`, at `requests_per_second`; no pacing and no budget: all),
chosen so that nothing starves:

- half the capacity (at least one record) goes to the stalest records, by when a run last
  confirmed them (`ops.confirmed`; never confirmed first), whatever their likelihood of change;
- the rest to the records that most likely changed: never confirmed (new), or whose person's
  record changed in another provider since (`known_people`'s `changed_at`), stalest first;
- what is left of the capacity to the next stalest.

A record with P records ahead of it in staleness order is refreshed within ceil(P / s) runs,
s = max(1, capacity // 2): each run takes the s stalest, and a refreshed record goes behind it.
So every record is refreshed within ceil(population / s) runs, whatever the other providers do.

A provider that can tell some changes (Whautomate's listing shows which contacts changed, not
whether one got a message) passes those records as `required`: refreshed the same run, outside
the capacity, so the bound above holds for the others whatever changes. Look-ups of people not
found before share the budget too (sources.common.lookups.to_look_up).

A provider declares what it refreshes (a Refresh per resource, its candidates keyed by record
with the person's phone and email); the shared planner orders, the sync saves (`save`).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import dlt
import pyarrow as pa
from croniter import croniter
from crmsync.kernel.warehouse import connect as warehouse_connection
from crmsync.kernel.warehouse import tables_of
from crmsync.sources.common.config import ConfigError
from crmsync.sources.common.known_people import identity

SQL_DIR = Path(__file__).parent / "sql"
DEFAULT_SYNC_CRON = "*/15 * * * *"  # the flows' incremental schedule when flow.sync_cron is unset
RUN_SHARE = 0.5  # of the schedule's interval a derived budget spends: the rest is the other work
MIN_RECORDS = 2  # per resource and run, whatever was spent before: the stalest always advance


@dataclass(frozen=True)
class Candidate:
    """A record a resource can refresh, and the person it belongs to (E.164 phone, email)."""

    key: str
    phone: str | None = None
    email: str | None = None


@dataclass
class Refresh:
    """One resource's plan for a run: every candidate, and those chosen, in refresh order."""

    resource: str
    candidates: list[str]
    chosen: list[str]
    within: str = ""  # the dlt resource that reads them (default: `resource`): it failing saves nothing

    def read_by(self) -> str:
        return self.within or self.resource

    def skipped(self) -> list[str]:
        chosen = set(self.chosen)
        return [key for key in self.candidates if key not in chosen]


@dataclass
class Refreshes:
    """The plans of one provider's run, saved to ops.confirmed once its load succeeded."""

    plans: list[Refresh] = field(default_factory=list)

    def add(self, plan: Refresh) -> Refresh:
        self.plans.append(plan)
        return plan


def run_budget(provider: str, settings: Mapping[str, Any]) -> int | None:
    """Requests a run may spend: `run_budget` when set, else RUN_SHARE of the sync schedule's
    interval at `requests_per_second`; None (no bound) when neither bounds it."""
    if settings["run_budget"]:
        return int(settings["run_budget"])
    rate = float(settings["requests_per_second"])
    if not rate:
        return None
    return max(1, int(schedule_seconds(provider) * rate * RUN_SHARE))


def schedule_seconds(provider: str) -> float:
    """The incremental schedule's interval: the shortest gap of `flow.sync_cron` between its
    next few runs."""
    cron = dlt.config.get("flow.sync_cron", str) or DEFAULT_SYNC_CRON
    try:
        runs = croniter(cron, datetime.now(timezone.utc))
        times = [runs.get_next(datetime) for _ in range(8)]
    except (ValueError, KeyError):
        raise ConfigError(f"{provider}: flow.sync_cron {cron!r} is not a cron expression, so "
                          f"sources.{provider}.run_budget cannot be derived from it (set either)") from None
    return min((b - a).total_seconds() for a, b in zip(times, times[1:]))


def capacity(budget: int | None, spent: int, requests_per_record: int) -> int | None:
    """Records one resource may refresh with what is left of the run's budget."""
    if budget is None:
        return None
    return max(MIN_RECORDS, (budget - spent) // max(requests_per_record, 1))


def candidates(warehouse: Path, dataset: str, people_sql: Path, keys: Sequence[str],
               default_region: str | None) -> list[Candidate]:
    """`keys` as candidates, each with the person the warehouse holds for it (`people_sql`
    over `dataset`.contacts: key, raw phone, calling code, email); none known before that
    table exists (a new record is refreshed first anyway)."""
    people: dict[str, tuple[str | None, str | None]] = {}
    if warehouse.exists():
        with warehouse_connection(warehouse) as con:
            if "contacts" in tables_of(con, dataset):
                people = {str(key): identity(phone_raw, calling_code, email, default_region)
                          for key, phone_raw, calling_code, email in con.execute(people_sql.read_text()).fetchall()}
    return [Candidate(key, *people.get(key, (None, None))) for key in keys]


def refresh_bound_runs(population: int, capacity: int) -> int:
    """The most runs any record waits between two refreshes (see the module's docstring)."""
    return math.ceil(population / max(1, capacity // 2))


def plan(warehouse: Path, provider: str, resource: str, candidates: Sequence[Candidate],
         records: int | None, changed_at: Mapping[str, datetime], within: str = "",
         required: Sequence[str] = ()) -> Refresh:
    """Which of `candidates` to refresh this run, at most `records` of them (None: all), in the
    order of the module's docstring; `changed_at` is when each phone or email last changed in
    another provider. The `required` keys (the provider said they changed) are refreshed first
    whatever the budget, and not counted in `records`."""
    needed = set(required)
    ordered = _staleness_order(warehouse, provider, resource,
                               [c for c in candidates if c.key not in needed], changed_at)
    keys = [key for key, _ in ordered]
    if records is None or records >= len(ordered):
        chosen = set(keys)
    else:
        stalest = max(1, records // 2)
        chosen = set(keys[:stalest])
        likely = [key for key, changed in ordered[stalest:] if changed]
        chosen.update(likely[:records - stalest])
        chosen.update([key for key in keys if key not in chosen][:records - len(chosen)])
    in_order = [key for key, changed in ordered if changed and key in chosen] + \
        [key for key, changed in ordered if not changed and key in chosen]
    return Refresh(resource, [*required, *keys], [*required, *in_order], within)


def _staleness_order(warehouse: Path, provider: str, resource: str, candidates: Sequence[Candidate],
                     changed_at: Mapping[str, datetime]) -> list[tuple[str, bool]]:
    """(key, most likely changed) of every candidate, stalest first (budget_order.sql)."""
    table = pa.table({
        "record_key": pa.array([c.key for c in candidates], pa.string()),
        "active_at": pa.array([_latest(changed_at, c) for c in candidates], pa.timestamp("us", "UTC")),
    })
    with warehouse_connection(warehouse) as con:
        con.execute(_sql("confirmed_table"))
        con.register("candidates", table)
        rows = con.execute(_sql("budget_order"), {"provider": provider, "resource": resource}).fetchall()
        con.unregister("candidates")
    return [(str(key), bool(changed)) for key, changed in rows]


def _latest(changed_at: Mapping[str, datetime], candidate: Candidate) -> datetime | None:
    times = [changed_at[v] for v in (candidate.phone, candidate.email) if v and v in changed_at]
    return max(times) if times else None


def save(warehouse: Path, provider: str, refreshes: Refreshes, failed: Collection[str] = ()) -> None:
    """After a successful load: each plan's chosen records confirmed now, and the confirmations
    of records no longer candidates (deleted, gone from the warehouse) dropped; nothing of the
    plans whose resource `failed` (alone)."""
    plans = [refresh for refresh in refreshes.plans if refresh.read_by() not in failed]
    if not plans:
        return
    now = datetime.now(timezone.utc)
    with warehouse_connection(warehouse) as con:
        con.execute(_sql("confirmed_table"))
        for refresh in plans:
            con.register("candidates_now", pa.table({"record_key": pa.array(refresh.candidates, pa.string())}))
            con.register("confirmed_now", pa.table({
                "resource": pa.array([refresh.resource] * len(refresh.chosen), pa.string()),
                "record_key": pa.array(refresh.chosen, pa.string())}))
            parameters = {"provider": provider, "resource": refresh.resource}
            con.execute(_sql("confirmed_prune"), parameters)
            con.execute(_sql("confirmed_save"), {"provider": provider, "confirmed_at": now})
            con.unregister("candidates_now")
            con.unregister("confirmed_now")


def _sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text()


def carried(warehouse: Path, dataset: str, table: str, key: str, parent: str, skipped: Sequence[str]) -> pa.Array:
    """The live ids of `dataset.table` under the parents a run skipped, for its scan to count as
    seen (carried_ids.sql); none when nothing was skipped or the table is not there yet."""
    if not skipped or not warehouse.exists():
        return pa.array([], pa.string())
    with warehouse_connection(warehouse) as con:
        if table not in tables_of(con, dataset):
            return pa.array([], pa.string())
        con.register("skipped", pa.table({"record_key": pa.array(list(skipped), pa.string())}))
        sql = _sql("carried_ids").format(table=f'"{dataset}"."{table}"', key=f'"{key}"', parent=f'"{parent}"')
        ids = con.sql(sql).to_arrow_table().column("id")
        con.unregister("skipped")
    return ids.combine_chunks() if ids.num_chunks else pa.array([], pa.string())
