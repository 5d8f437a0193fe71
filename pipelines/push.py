"""`crmsync push`: segment membership back to each provider, diff-based, safe and resumable.

For each segment and provider target of the segment headers, the members the segment wants
there (crm.segment_members, each on the provider contact it goes on) are compared with
`ops.push_state`, what crmsync has pushed and the provider confirmed. Only the differences
are sent: a run with no change makes no write call, and only what crmsync added is ever
removed, so memberships people made in the CRM are never touched.

Drift: the state is also compared with what the provider's latest sync read of the target
(its descriptor's `push_seen` query). A membership crmsync made that a sync begun after the
push no longer shows, or one made in an earlier id of the target (deleted or made again in
the CRM), is "lost": with `push.on_drift = "restore"` (dlt config, the default) its member
is added again ("restore" in ops.push_log, counted in `restored` and `added`); with
"report" it is only counted and logged. A member the target already holds that crmsync did
not add (by hand, or before crmsync took the target over) is neither added nor ever removed,
and counted in `by_hand`. DM Champ lists cannot be read: `full_resync` sends every membership
again (adds are idempotent) to repair what cannot be seen.

Resumable: state rows are written as the batches' outcomes arrive, in small transactions (at
most every RECORD_SECONDS), so a push killed at any point loses at most the writes in flight
and the last half second's outcomes; the adds were written ahead as intents, and the clients'
add and remove are idempotent, so the rerun repeats those harmlessly and ends exactly equal.

Safe: removals that would take more than `push.max_removal_share` (dlt config, default 0.5)
of a target's members away, or leave it empty, are held back (logged "held") unless
`allow_mass_removal`. A provider failing (credentials, transport after retries) fails its
targets and the others go on; a member the provider refuses is logged "rejected" and, not
being in the state, retried on the next run.

The DuckDB file has one writer: the run opens it once and writes through one connection
from the main thread; the batches' HTTP calls run in a thread pool.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dlt
import duckdb
import pyarrow as pa
from crmsync.kernel.errors import UserError
from crmsync.kernel.push import Member, Outcome, PushClient, PushTarget
from crmsync.kernel.warehouse import open_warehouse, relations
from crmsync.sources import registry
from crmsync.sources.common.config import provider_settings
from crmsync.sources.common.http import AuthError, RequestFailed
from crmsync.sources.common.run import SyncRun
from crmsync.transforms.runner import DEFAULT_ROOT
from crmsync.transforms.segments import Segment, load_segments

SQL = Path(__file__).parent / "sql"
SAMPLE = 5  # members shown per change in a dry run, rejection reasons kept per target
DEFAULT_MAX_REMOVAL_SHARE = 0.5
ON_DRIFT = ("restore", "report")  # push.on_drift: put lost memberships back, or only tell
# (target, changes sent, changes to send): told as each batch's outcomes are recorded
PushProgress = Callable[[str, int, int], None]
# Outcomes are recorded at most this often (and at the end): one transaction per one-contact
# call made a lake's push commit ~1,000 times for 400 people (8 minutes on PostgreSQL).
RECORD_SECONDS = 0.5


@dataclass
class TargetResult:
    """One segment in one provider: what changed (in a dry run: what would change)."""

    target: str  # as the header writes it: `chatman segment "High value"`
    status: str = "ok"  # "ok" | "failed"
    error: str | None = None
    added: int = 0
    removed: int = 0
    rejected: int = 0
    held: int = 0  # removals held back by the mass-removal guard
    gone: int = 0  # memberships that went with a contact deleted in the provider
    drift: int = 0  # memberships crmsync made that the provider no longer shows (lost)
    restored: int = 0  # of `added`, lost memberships put back (push.on_drift = "restore")
    resent: int = 0  # memberships crmsync holds sent again (--full-resync)
    by_hand: int = 0  # memberships the target holds that crmsync did not make: never touched
    created: bool | None = None  # dry run: the target does not exist yet and would be created
    errors: list[str] = field(default_factory=list)  # first rejection reasons
    sample: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # dry run: adds, removes

    def counts(self) -> dict[str, int]:
        return {"added": self.added, "removed": self.removed, "rejected": self.rejected, "held": self.held}

    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value not in (None, [], {})}


@dataclass
class PushResult:
    run_id: str | None  # None in a dry run: nothing is recorded
    dry_run: bool
    status: str = "ok"  # "failed" when a provider or target failed
    seconds: float = 0.0
    segments: dict[str, dict[str, TargetResult]] = field(default_factory=dict)

    def targets(self) -> Iterator[TargetResult]:
        for providers in self.segments.values():
            yield from providers.values()

    def total(self, key: str) -> int:
        return sum(getattr(t, key) for t in self.targets())

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "dry_run": self.dry_run, "run_id": self.run_id, "seconds": self.seconds,
                "segments": {s: {p: t.as_dict() for p, t in ts.items()} for s, ts in self.segments.items()}}


@dataclass(frozen=True)
class Change:
    """One membership to send: `operation` is what the log calls it (add, restore, resend:
    the client's add; remove: its remove)."""

    member: Member
    operation: str
    record: str | None = None  # removes: the held membership's record (what undoes it)
    membership: str | None = None  # removes: the state row it ends


@dataclass(frozen=True)
class Held:
    """A state row that ends without a call: gone with its contact, or lost in the provider."""

    member: Member
    target_id: str
    membership: str
    wanted: bool = False  # lost: its member is still in the segment


@dataclass
class Plan:
    """One target's diff."""

    adds: list[Change]  # add, and restore (the member's membership was lost)
    removes: list[Change]
    resends: list[Change]  # --full-resync: the held memberships, sent again
    gone: list[Held]
    lost: list[Held]  # not gone, but the provider no longer shows them (drift)
    by_hand: int
    held_count: int  # memberships crmsync holds there now (not gone, not lost)


@dataclass(frozen=True)
class Options:
    """How this run pushes."""

    run_id: str | None  # None in a dry run
    dry_run: bool
    allow_mass_removal: bool
    max_removal_share: float
    restore: bool  # push.on_drift = "restore"
    full_resync: bool
    progress: PushProgress | None = None


@dataclass
class Job:
    """What a target's run needs: where, who for, through which connection and client."""

    con: duckdb.DuckDBPyConnection
    client: PushClient
    provider: str
    segment: str
    target: str  # the header line's target, kept with each membership
    target_id: str
    run_id: str


def push(warehouse: Path, segments: list[str] | None = None, providers: list[str] | None = None,
         dry_run: bool = False, allow_mass_removal: bool = False, transforms_root: Path = DEFAULT_ROOT,
         clients: Mapping[str, PushClient] | None = None, full_resync: bool = False,
         progress: PushProgress | None = None) -> PushResult:
    """Push every chosen segment to every chosen provider it names (all by default).
    `full_resync` sends every membership again, not only the differences. `clients` replaces
    the provider's own push client (tests). `progress` hears each target's changes sent."""
    started = time.monotonic()
    chosen = choose(load_segments(transforms_root / "segments"), segments, providers)
    options = Options(None if dry_run else uuid.uuid4().hex, dry_run, allow_mass_removal, max_removal_share(),
                      on_drift() == "restore", full_resync, progress)
    result = PushResult(run_id=options.run_id, dry_run=dry_run)
    with open_warehouse(warehouse, read_only=dry_run) as con:
        if "crm.segment_members" not in relations(con):
            raise UserError(f"{warehouse}: no segments built yet; run crmsync transform first")
        if not dry_run:
            start_run(con, result.run_id)
        stopped = True  # until every provider ran: an error escaping (the warehouse) fails the run
        try:
            for provider in providers_of(chosen):
                targets = [(s.name, s.push[provider]) for s in chosen if provider in s.push]
                for segment, target in push_provider(con, warehouse, provider, targets, options, clients):
                    result.segments.setdefault(segment, {})[provider] = target
            stopped = False
        finally:
            result.status = "failed" if stopped or any(t.status != "ok" for t in result.targets()) else "ok"
            result.seconds = round(time.monotonic() - started, 3)
            if not dry_run:
                finish_run(con, result)
    # In segment file order, providers in sync order, whatever order they ran in.
    result.segments = {s.name: {p: result.segments[s.name][p] for p in registry.names() if p in result.segments[s.name]}
                       for s in chosen if s.name in result.segments}
    return result


def choose(all_segments: list[Segment], names: list[str] | None, providers: list[str] | None) -> list[Segment]:
    """The segments asked for (all by default), restricted to the providers asked for."""
    known = {s.name: s for s in all_segments}
    unknown = [n for n in names or [] if n not in known]
    if unknown:
        raise UserError(f"unknown segment(s) {', '.join(unknown)}; known: {', '.join(known) or 'none'}")
    bad = [p for p in providers or [] if p not in registry.names()]
    if bad:
        raise UserError(f"unknown provider(s) {', '.join(bad)}; known: {', '.join(registry.names())}")
    picked = [known[n] for n in dict.fromkeys(names)] if names else all_segments
    if providers:
        picked = [Segment(s.name, s.description, {p: t for p, t in s.push.items() if p in providers}, s.path, s.sql)
                  for s in picked]
    return [s for s in picked if s.push]


def providers_of(segments: list[Segment]) -> list[str]:
    return [p for p in registry.names() if any(p in s.push for s in segments)]


def max_removal_share() -> float:
    value = dlt.config.get("push.max_removal_share", float)
    share = DEFAULT_MAX_REMOVAL_SHARE if value is None else float(value)
    if not 0 <= share <= 1:
        raise UserError(f"push.max_removal_share must be between 0 and 1, not {share}")
    return share


def on_drift() -> str:
    value = dlt.config.get("push.on_drift", str)
    chosen = ON_DRIFT[0] if value is None else str(value).strip().lower()
    if chosen not in ON_DRIFT:
        raise UserError(f"push.on_drift must be {' or '.join(map(repr, ON_DRIFT))}, not {value!r}")
    return chosen


def push_provider(con: duckdb.DuckDBPyConnection, warehouse: Path, provider: str,
                  targets: list[tuple[str, PushTarget]], options: Options,
                  clients: Mapping[str, PushClient] | None) -> Iterator[tuple[str, TargetResult]]:
    """Each target of one provider; a provider failure fails it and every target not done."""
    run = SyncRun(warehouse=warehouse)
    failure: str | None = None
    try:
        client = clients[provider] if clients and provider in clients else load_client(provider, run)
    except (UserError, RequestFailed) as error:
        client, failure = None, str(error)
    except Exception as error:  # noqa: BLE001 - one provider's failure must not stop the others
        client, failure = None, describe_error(error)
    try:
        for segment, target in targets:
            outcome = TargetResult(str(target))
            if failure is None:
                try:
                    push_target(con, client, segment, target, options, outcome)
                except (AuthError, RequestFailed) as error:  # the provider, not this target
                    failure = str(error)
                    outcome.status, outcome.error = "failed", failure
                except UserError as error:  # this target (a DM Champ list that does not exist)
                    outcome.status, outcome.error = "failed", str(error)
                except duckdb.Error:  # the warehouse, not the provider: stop the run
                    raise
                except Exception as error:  # noqa: BLE001 - a client's bug fails its provider only
                    failure = describe_error(error)
                    outcome.status, outcome.error = "failed", failure
            else:
                outcome.status, outcome.error = "failed", failure
            yield segment, outcome
    finally:
        run.close()


def load_client(provider: str, run: SyncRun) -> PushClient:
    described = registry.provider(provider)
    if described.push_client is None:
        raise UserError(f"{provider}: crmsync cannot push there")
    return described.push_client(provider_settings(provider), run)


def push_target(con: duckdb.DuckDBPyConnection, client: PushClient, segment: str, target: PushTarget,
                options: Options, outcome: TargetResult) -> None:
    """Diff one target and send its changes: removes first (a membership being moved is
    never removed after it was re-added), then adds."""
    target_id = resolve(client, target, options.dry_run)
    if target_id is None:  # dry run: it does not exist yet; the push would create it
        outcome.created = True
    plan = diff(con, target, segment, target_id, options)
    hold = guard(plan, options.max_removal_share) and not options.allow_mass_removal
    outcome.gone, outcome.drift, outcome.by_hand = len(plan.gone), len(plan.lost), plan.by_hand
    if options.dry_run:
        describe(plan, hold, outcome)
        return
    job = Job(con, client, target.provider, segment, str(target), target_id, options.run_id)
    forget_gone(job, plan)
    forget_lost(job, plan, options.restore)
    sent = Tally(options.progress, f"{segment} → {target.provider}",
                 len(plan.adds) + len(plan.resends) + (0 if hold else len(plan.removes)))
    if hold:
        log_held(job, plan)
        outcome.held = len(plan.removes)
    else:
        send(job, "remove", plan.removes, outcome, sent)
    intend(job, plan.adds + plan.resends)
    send(job, "add", plan.adds + plan.resends, outcome, sent)


class Tally:
    """A target's changes sent so far, told to `progress` (from 0 of the total on; a target
    with nothing to send says nothing)."""

    def __init__(self, progress: PushProgress | None, target: str, total: int) -> None:
        self.progress, self.target, self.total, self.done = progress, target, total, 0
        self.add(0)

    def add(self, sent: int) -> None:
        self.done += sent
        if self.progress is not None and self.total:
            self.progress(self.target, self.done, self.total)


def intend(job: Job, adds: list[Change]) -> None:
    """Write down who is about to be added before any call goes out (ops.push_intents)."""
    with transaction(job.con), registered(job.con, "_push_intended", ("person_id",),
                                          [(change.member.person_id,) for change in adds]):
        execute(job.con, "push_intents_add", provider=job.provider, segment=job.segment,
                run_id=job.run_id, at=now())


def resolve(client: PushClient, target: PushTarget, dry_run: bool) -> str | None:
    """The target's id, created when missing; in a dry run never created: None when missing
    (the clients answer a missing target with a UserError, or nothing)."""
    if not dry_run:
        return client.resolve_target(target, create=True)
    try:
        return client.resolve_target(target, create=False) or None
    except AuthError:
        raise
    except UserError:
        return None


def diff(con: duckdb.DuckDBPyConnection, target: PushTarget, segment: str, target_id: str | None,
         options: Options) -> Plan:
    """The changes of one target, from the state, what the provider's latest sync read of it
    and the segment. A real run also updates the person_id of held memberships to the
    warehouse's current one."""
    provider = target.provider
    seen_at = seen(con, provider, target_id)
    con.execute(sql("push_held_table"))
    intents(con, provider, segment)
    if "ops.push_state" in relations(con):
        execute(con, "push_held", provider=provider, segment=segment, target_id=target_id, target=str(target),
                listed_at=listed_at(con, provider), seen_at=seen_at)
    # A person the provider does not hold can be pushed only where the push creates what holds
    # the membership (CONTRACT.md "Push-back"); elsewhere it goes on a contact it has.
    creates = registry.provider(provider).push.creates_contacts
    execute(con, "push_desired", provider=provider, segment=segment, creates=creates, restore=options.restore)
    adds = [Change(Member(*row), "restore" if restore else "add")
            for *row, restore in execute(con, "push_adds", provider=provider).fetchall()]
    removes = [Change(Member(person_id, contact_id, phone, email, name), "remove", record_id, membership)
               for person_id, contact_id, record_id, membership, phone, email, name
               in execute(con, "push_removes").fetchall()]
    resends = [Change(Member(*row), "resend") for row in execute(con, "push_resends").fetchall()] \
        if options.full_resync else []
    gone = [Held(Member(person_id, contact_id, None, None, None), held_in, membership)
            for person_id, contact_id, held_in, membership in execute(con, "push_gone").fetchall()]
    lost = [Held(Member(person_id, contact_id, None, None, None), held_in, membership, wanted)
            for person_id, contact_id, held_in, membership, wanted in execute(con, "push_lost").fetchall()]
    by_hand = execute(con, "push_by_hand", provider=provider).fetchone()[0]
    held_count = con.execute("SELECT count(*) FROM _push_held WHERE NOT gone AND NOT lost").fetchone()[0]
    if not options.dry_run and held_count:
        execute(con, "push_state_relink", provider=provider, segment=segment, target_id=target_id)
    for table in ("_push_desired", "_push_held", "_push_seen", "_push_intents"):
        con.execute(f"DROP TABLE {table}")
    return Plan(adds, removes, resends, gone, lost, by_hand, held_count)


def intents(con: duckdb.DuckDBPyConnection, provider: str, segment: str) -> None:
    """Fill _push_intents with the target's members whose add a killed push left unrecorded."""
    if "ops.push_intents" in relations(con):
        execute(con, "push_intents_table", provider=provider, segment=segment)
    else:  # no push has run here yet (a dry run cannot create the table)
        con.execute("CREATE OR REPLACE TEMP TABLE _push_intents (person_id VARCHAR)")


def seen(con: duckdb.DuckDBPyConnection, provider: str, target_id: str | None) -> datetime | None:
    """Fill _push_seen with what the provider's latest sync read of the target; answer when
    that sync began (None, and nothing seen: the provider cannot be read, the target does
    not exist yet, or no sync has read it)."""
    con.execute(sql("push_seen_table"))
    query = registry.provider(provider).push_seen
    dataset = f"raw_{provider}"
    if query is None or target_id is None or f"{dataset}._dlt_loads" not in relations(con):
        return None
    try:
        con.execute(sql("push_seen_fill").format(query=query.read_text().strip().rstrip(";")),
                    {"target_id": target_id})
    except duckdb.CatalogException:  # a table the query reads was not synced yet (an older sync)
        return None
    return con.execute(sql("push_seen_at").format(dataset=dataset)).fetchone()[0]


def listed_at(con: duckdb.DuckDBPyConnection, provider: str) -> datetime | None:
    """When the provider's latest sync that lists everything completed (None: never, or its
    sync does not list everything). A record the push made that a later complete listing did
    not show was deleted there: the membership is gone. Elsewhere (DM Champ cannot be listed)
    a record the push made stays trusted until a sync looks it up."""
    dataset = f"raw_{provider}"
    if not registry.provider(provider).lists_everything or f"{dataset}._dlt_loads" not in relations(con):
        return None
    return con.execute(sql("push_listed_at").format(dataset=dataset)).fetchone()[0]


def guard(plan: Plan, share: float) -> bool:
    """True when the removals would take more than `share` of the target's members away,
    or leave it empty."""
    if not plan.removes:
        return False
    empties = plan.held_count - len(plan.removes) + len(plan.adds) == 0
    return empties or len(plan.removes) > share * plan.held_count


def describe(plan: Plan, hold: bool, outcome: TargetResult) -> None:
    """A dry run's counts (those a real run would report, had no member been rejected) and
    samples."""
    outcome.added = len(plan.adds)
    outcome.restored = sum(change.operation == "restore" for change in plan.adds)
    outcome.resent = len(plan.resends)
    outcome.removed, outcome.held = (0, len(plan.removes)) if hold else (len(plan.removes), 0)
    outcome.sample = {"add": [asdict(c.member) for c in plan.adds[:SAMPLE]],
                      "remove": [asdict(c.member) for c in plan.removes[:SAMPLE]]}


LogRow = tuple[str, str | None, str, str, str | None]  # person_id, contact_id, operation, status, error


def send(job: Job, method: str, changes: list[Change], outcome: TargetResult, sent: Tally) -> None:
    """Send the changes through the client's `method` (add or remove) in batches,
    `concurrency` batches in flight; record each batch's outcomes as it arrives. A transport
    failure stops the target after recording what the provider already confirmed, then raises."""
    size = max(1, int(job.client.batch_size))
    batches = [changes[i:i + size] for i in range(0, len(changes), size)]
    if not batches:
        return

    def call(batch: list[Change]) -> list[Outcome]:
        members = [change.member for change in batch]
        if method == "add":
            return job.client.add(job.target_id, members)
        return job.client.remove(job.target_id, members, [change.record for change in batch])

    answered: tuple[list[Change], list[Outcome]] = ([], [])
    recorded_at = time.monotonic()
    try:
        for batch, outcomes in in_flight(call, batches, max(1, int(job.client.concurrency))):
            answered[0].extend(batch)
            answered[1].extend(outcomes)
            if time.monotonic() - recorded_at >= RECORD_SECONDS:
                record(job, *answered, outcome)
                answered, recorded_at = ([], []), time.monotonic()
            sent.add(len(batch))
    finally:  # what the provider confirmed is recorded before a failure goes up
        if answered[0]:
            record(job, *answered, outcome)


def in_flight(call: Callable[[list[Change]], list[Outcome]], batches: list[list[Change]],
              concurrency: int) -> Iterator[tuple[list[Change], list[Outcome]]]:
    """(batch, outcomes) as each call returns. On the first failure no new batch starts;
    the ones already in flight are still yielded, then the failure is raised."""
    failure: BaseException | None = None
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="push") as pool:
        futures: dict[Future, list[Change]] = {pool.submit(call, batch): batch for batch in batches}
        for future in as_completed(futures):
            if future.cancelled():
                continue
            error = future.exception()
            if error is not None:
                if failure is None:
                    failure = error
                    for pending in futures:
                        pending.cancel()
                continue
            yield futures[future], future.result()
    if failure is not None:
        raise failure


def record(job: Job, batch: list[Change], outcomes: list[Outcome], outcome: TargetResult) -> None:
    """One batch's outcomes in one transaction: state for what the provider confirmed, a log
    row for every member. A member the client gave no outcome for is logged as rejected."""
    answered: dict[str, list[Outcome]] = {}
    for item in outcomes:
        answered.setdefault(item.person_id, []).append(item)
    added: dict[str, tuple[str, str | None, str | None]] = {}  # membership -> its row; the last answer wins
    created: list[tuple[str, str]] = []  # (person_id, record id) of the records the adds created
    removed: list[tuple[str, str | None]] = []
    logged: list[LogRow] = []
    for change in batch:
        member = change.member
        got = answered.get(member.person_id)
        item = got.pop(0) if got else Outcome(member.person_id, "rejected", member.contact_id, None,
                                              "the push client gave no outcome")
        ok = item.status == "ok"
        contact_id = item.contact_id or member.contact_id
        if ok and change.operation != "remove":
            key = item.record_id or contact_id or f"person:{member.person_id}"
            added[key] = (member.person_id, contact_id, item.record_id)
            if item.created and contact_id:
                created.append((member.person_id, contact_id))
        elif ok:
            removed.append((job.target_id, change.membership))
        logged.append((member.person_id, contact_id, change.operation, "ok" if ok else "rejected",
                       None if ok else (item.error or "rejected")))
        count(outcome, change.operation, ok, item.error)
    at = now()
    with transaction(job.con):
        keep(job, [(key, *row) for key, row in added.items()], at)
        if created:  # most adds make no record (a tag, a subscription): no statement for them
            with registered(job.con, "_push_created", ("person_id", "contact_id"), created):
                execute(job.con, "created_records_add", provider=job.provider, segment=job.segment,
                        run_id=job.run_id, at=at)
        forget(job, removed)
        log(job, logged, at)
        answered_adds = [(change.member.person_id,) for change in batch if change.operation != "remove"]
        with registered(job.con, "_push_answered", ("person_id",), answered_adds):
            execute(job.con, "push_intents_done", provider=job.provider, segment=job.segment)


def count(outcome: TargetResult, operation: str, ok: bool, error: str | None) -> None:
    if not ok:
        outcome.rejected += 1
        if len(outcome.errors) < SAMPLE and error and error not in outcome.errors:
            outcome.errors.append(error)
    elif operation == "resend":
        outcome.resent += 1
    elif operation == "remove":
        outcome.removed += 1
    else:  # a restore is an add too: the provider did not hold the membership
        outcome.added += 1
        outcome.restored += operation == "restore"


def forget_gone(job: Job, plan: Plan) -> None:
    """Memberships whose contact the provider deleted went with it: drop them from the state
    (logged "gone"), so a member still in the segment is added again on a live contact."""
    if not plan.gone:
        return
    with transaction(job.con):
        forget(job, [(held.target_id, held.membership) for held in plan.gone])
        log(job, [(held.member.person_id, held.member.contact_id, "remove", "gone",
                   "the contact was deleted in the provider") for held in plan.gone], now())


def forget_lost(job: Job, plan: Plan, restore: bool) -> None:
    """Memberships the provider lost (drift) are no longer crmsync's: the provider said so.
    Restoring, they all leave the state (their members still in the segment are among the
    adds, logged "restore" there); reporting, only those whose member left the segment do
    (there is nothing left to remove), and the others are logged "reported" and kept."""
    if not plan.lost:
        return
    kept = [] if restore else [held for held in plan.lost if held.wanted]
    forgotten = plan.lost if restore else [held for held in plan.lost if not held.wanted]
    restoring = {change.member.person_id for change in plan.adds if change.operation == "restore"}
    with transaction(job.con):
        forget(job, [(held.target_id, held.membership) for held in forgotten])
        log(job, [(held.member.person_id, held.member.contact_id, "remove", "lost",
                   "no longer in the target in the provider")
                  for held in forgotten if held.member.person_id not in restoring]
            + [(held.member.person_id, held.member.contact_id, "restore", "reported",
                "push.on_drift = report: not put back") for held in kept], now())


def log_held(job: Job, plan: Plan) -> None:
    with transaction(job.con):
        log(job, [(change.member.person_id, change.member.contact_id, "remove", "held",
                   "mass-removal guard: run with --allow-mass-removal to apply") for change in plan.removes], now())


# Each batch's state and log rows go in as one set (a statement per member made the push's
# bookkeeping, not its HTTP calls, the slow part: ~100 s for 20,000 rows).


def keep(job: Job, rows: list[tuple[str, str, str | None, str | None]], at: datetime) -> None:
    """Confirmed adds (membership, person_id, contact_id, record_id) become crmsync's."""
    with registered(job.con, "_push_kept", ("membership", "person_id", "contact_id", "record_id"), rows):
        execute(job.con, "push_state_add", provider=job.provider, segment=job.segment,
                target_id=job.target_id, target=job.target, at=at)


def forget(job: Job, memberships: list[tuple[str, str | None]]) -> None:
    """(target id, membership) rows leave the state."""
    with registered(job.con, "_push_forgotten", ("target_id", "membership"), memberships):
        execute(job.con, "push_state_remove", provider=job.provider, segment=job.segment)


def log(job: Job, rows: list[LogRow], at: datetime) -> None:
    with registered(job.con, "_push_logged", ("person_id", "contact_id", "operation", "status", "error"), rows):
        execute(job.con, "push_log", run_id=job.run_id, provider=job.provider, segment=job.segment, at=at)


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, name: str, columns: tuple[str, ...],
               rows: list[tuple]) -> Iterator[None]:
    """`rows` readable by SQL as the table `name` for the length of the block."""
    con.register(name, pa.table({column: pa.array([row[i] for row in rows], pa.string())
                                 for i, column in enumerate(columns)}))
    try:
        yield
    finally:
        con.unregister(name)


def start_run(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """This run's row, 'running' until finish_run; a row an earlier, killed push left
    'running' is closed as 'killed' first (pipelines/sql/push_run_start.sql)."""
    with transaction(con):
        con.execute(sql("push_tables"))
        execute(con, "push_run_start", run_id=run_id, at=now())


def finish_run(con: duckdb.DuckDBPyConnection, result: PushResult) -> None:
    execute(con, "push_run_finish", run_id=result.run_id, at=now(), status=result.status,
            added=result.total("added"), removed=result.total("removed"), rejected=result.total("rejected"),
            held=result.total("held"))


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    con.begin()
    try:
        yield
    except BaseException:
        con.rollback()
        raise
    con.commit()


def execute(con: duckdb.DuckDBPyConnection, name: str, **params: object) -> duckdb.DuckDBPyConnection:
    """Run the statements of `pipelines/sql/<name>.sql`, each with the parameters it names."""
    cursor = con
    for statement in statements(name):
        used = {k: v for k, v in params.items() if re.search(rf"\${k}\b", statement)}
        cursor = con.execute(statement, used)
    return cursor


_SQL_CACHE: dict[str, list[str]] = {}


def statements(name: str) -> list[str]:
    if name not in _SQL_CACHE:
        text = sql(name)
        _SQL_CACHE[name] = [s for s in text.split(";\n") if s.strip() and not all(
            line.strip().startswith("--") or not line.strip() for line in s.splitlines())]
    return _SQL_CACHE[name]


def sql(name: str) -> str:
    return (SQL / f"{name}.sql").read_text()


def describe_error(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0] if text else ''}"[:500]


def now() -> datetime:
    return datetime.now(UTC)
