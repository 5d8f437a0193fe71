"""Whether an incremental run fits its schedule at the provider's real rate (issue #17).

On loopback a run is bound by crmsync's own work; at an account's rate limit it is bound by
its requests. At SCHEDULE_PEOPLE a rerun at 10 requests a second takes hours for the providers
read record by record, so the rate-bound part is computed as requests ÷ rate, the requests
measured at the bench's size and scaled to SCHEDULE_PEOPLE in proportion (a run's requests grow
with the people it reads). A budgeted provider (one with a `run_budget` setting) reruns with its
derived budget scaled down the same way, so the measured requests are the budget's.
"""

from __future__ import annotations

from pathlib import Path

from crmsync.benchmarks.figures import Figure, at_most, reported
from crmsync.kernel.warehouse import open_warehouse, relations
from crmsync.sources import registry
from crmsync.sources.common.budget import RUN_SHARE, refresh_bound_runs, schedule_seconds

SQL = Path(__file__).parent / "sql"
SCHEDULE_PEOPLE = 100_000
FIT_TARGET = 1.0
FLOOR_TARGET = 1.1


def configured_rate(provider: str) -> float:
    """The rate the provider's settings give a real account (its default)."""
    return float(next(s.default for s in registry.provider(provider).settings if s.key == "requests_per_second"))


def budget_env(provider: str, contacts: int) -> dict[str, str]:
    """The rerun's `run_budget` for a budgeted provider: the one derived at SCHEDULE_PEOPLE from
    the configured rate and the schedule, scaled to the bench's `contacts`."""
    if not any(s.key == "run_budget" for s in registry.provider(provider).settings):
        return {}
    derived = schedule_seconds(provider) * configured_rate(provider) * RUN_SHARE
    return {f"SOURCES__{provider.upper()}__RUN_BUDGET": str(max(1, int(derived * contacts / SCHEDULE_PEOPLE)))}


def schedule_figures(provider: str, requests: int, seconds: float, contacts: int, warehouse: Path) -> list[Figure]:
    """`schedule.<provider>.fit` and `.staleness_hours` (and under the naive plan) of a rerun
    that made `requests` in `seconds` at `contacts` people, into `warehouse`."""
    scale = SCHEDULE_PEOPLE / contacts
    rate, interval = configured_rate(provider), schedule_seconds(provider)
    wall = requests * scale / rate + seconds * scale
    name = f"schedule.{provider}"
    plans = _refreshed(warehouse, provider)
    skipped = sum(records - chosen for records, chosen in plans.values())
    naive_wall = wall + skipped * scale / rate
    at = (f"rerun after 1% churn: {requests} requests at {contacts:,} contacts, scaled to {SCHEDULE_PEOPLE:,} "
          f"people: {requests * scale:,.0f} requests ÷ {rate:g}/s (computed, not run in real time: hours) "
          f"+ crmsync's own {seconds * scale:,.0f} s; interval {interval:,.0f} s")
    figures = [at_most(f"{name}.fit", wall / interval, "x", FIT_TARGET, at)]
    if plans:
        # This API cannot tell what changed: to see every change a client must re-read every
        # record, so the floor is the run's requests plus the re-reads the budget deferred.
        figures.append(at_most(f"{name}.requests_vs_floor", requests / (requests + skipped), "x", FLOOR_TARGET,
                               f"{requests} requests / floor {requests + skipped} (every record re-read, "
                               f"as no client of this API can tell what changed); at {contacts:,} contacts"))
        runs = max(1 if chosen >= records else refresh_bound_runs(records, chosen)
                   for records, chosen in plans.values())
        figures.append(reported(f"{name}.staleness_hours", runs * max(interval, wall) / 3600, "h",
                                f"budgeted: every record re-checked within {runs} runs "
                                f"({', '.join(f'{r} {c} of {n}' for r, (n, c) in plans.items())} a run)"))
    else:
        figures.append(reported(f"{name}.staleness_hours", max(interval, wall) / 3600, "h",
                                "every record every run: one interval, or the run when longer"))
    figures.append(reported(f"{name}.naive.staleness_hours", max(interval, naive_wall) / 3600, "h",
                            f"every record every run: {naive_wall:,.0f} s a run"
                            + (f" ({skipped * scale:,.0f} requests more than the budget)" if plans else "")))
    return figures


def _refreshed(warehouse: Path, provider: str) -> dict[str, tuple[int, int]]:
    """Per budgeted resource of the latest run: (records, chosen), from ops.confirmed."""
    with open_warehouse(warehouse, read_only=True) as con:
        if "ops.confirmed" not in relations(con):
            return {}
        rows = con.execute((SQL / "schedule_refreshed.sql").read_text(), {"provider": provider}).fetchall()
    return {resource: (int(records), int(chosen)) for resource, records, chosen in rows}
