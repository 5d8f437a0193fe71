"""What the commands show a person: progress on stderr, summary tables on stdout."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

from crmsync.pipelines.push import SAMPLE
from crmsync.pipelines.sync import ProviderResult

if TYPE_CHECKING:
    from crmsync.flows.status import Status
    from crmsync.person import Person
    from crmsync.pipelines.push import PushResult, TargetResult
    from crmsync.transforms.runner import TransformResult
    from crmsync.transforms.segments import SegmentStatus

stdout = Console()
# A provider's or run's status as shown; any other is red.
WIDTH = 80  # the terminal every line is made to fit
COMMAND_QUIET_SECONDS = 5.0  # a command says what still runs after this long without a line
STATUS_COLOURS = {"ok": "green", "partial": "yellow", "skipped": "yellow"}


class ProgressLines:
    """A long command's progress as plain lines on stderr (readable in a log file and a
    terminal alike): each task as it begins and ends, a provider table's rows read and a push
    target's members sent, each such line at most every `every` seconds (and a target's
    last). Used as a context manager it also says which tasks are still running after
    `quiet` seconds without a line (dlt's normalize and load, a long diff). The flow's tasks
    tell it from their threads."""

    def __init__(self, every: float = 3.0, quiet: float = 10.0) -> None:
        self.every, self.quiet = every, quiet
        self.last: dict[object, float] = {}
        self.running: dict[str, float] = {}  # task -> when it began
        self.said = time.monotonic()
        self.spoken = 0  # lines said
        self.lock = threading.Lock()
        self.stopped = threading.Event()

    def __enter__(self) -> ProgressLines:
        threading.Thread(target=self.watch, name="progress", daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()

    def begin(self, task: str, announce: bool = True) -> None:
        """Without `announce`, the task is only named once it runs `quiet` seconds unheard."""
        with self.lock:
            self.running[task] = time.monotonic()
        if announce:
            self.say(f"{task}: started")

    def end(self, task: str, outcome: str) -> None:
        with self.lock:
            self.running.pop(task, None)
        self.say(f"{task}: {outcome}")

    def rows(self, provider: str, table: str, rows: int) -> None:
        if self.due((provider, table)):
            self.say(f"  {provider}.{table}: {rows:,} rows read")

    def members(self, target: str, done: int, total: int) -> None:
        if self.due(target) or done == total:
            self.say(f"  {target}: {done:,} of {total:,} members")

    def watch(self) -> None:
        while not self.stopped.wait(min(1.0, self.quiet / 4)):
            now = time.monotonic()
            with self.lock:
                silent = now - self.said >= self.quiet
                running = ", ".join(f"{task} ({now - at:.0f}s)" for task, at in self.running.items())
            if silent and running:
                self.say(f"  still running: {running}")

    def due(self, key: object) -> bool:
        now = time.monotonic()
        with self.lock:
            if now - self.last.get(key, -self.every) < self.every:
                return False
            self.last[key] = now
            return True

    def say(self, line: str) -> None:
        with self.lock:
            self.said = time.monotonic()
            self.spoken += 1
            sys.stderr.write(line + "\n")
            sys.stderr.flush()


@contextmanager
def command_progress(task: str, enabled: bool) -> Iterator[ProgressLines | None]:
    """`sync`, `transform` or `push` on its own: the progress lines `run` prints, with the
    command as the task, named every few seconds while nothing else is said (dlt's normalize
    and load, a diff) and said done when anything was said: a command over in seconds prints
    nothing more than its report. None when disabled (--json)."""
    if not enabled:
        yield None
        return
    started = time.monotonic()
    with ProgressLines(quiet=COMMAND_QUIET_SECONDS) as lines:
        lines.begin(task, announce=False)
        yield lines
        if lines.spoken:
            lines.end(task, f"done in {time.monotonic() - started:.0f}s")


def sync_summary(results: dict[str, ProviderResult], warehouse: Path) -> None:
    """One line per provider and table: rows loaded, rows newly marked deleted, problems."""
    table = Table(title=f"crmsync sync → {warehouse}")
    for column, justify in (("provider", "left"), ("table", "left"), ("loaded", "right"),
                            ("deleted", "right"), ("problems", "right")):
        table.add_column(column, justify=justify)
    for provider, result in results.items():
        status = (f"{provider}\n[{STATUS_COLOURS.get(result.status, 'red')}]{result.status}[/] "
                  f"{result.seconds:.1f}s, {result.requests:,} requests"
                  if result.status != "failed" else f"{provider}\n[red]failed[/]")
        names = sorted(set(result.rows) | set(result.deleted) | set(result.problems)) or ["-"]
        for position, name in enumerate(names):
            problems = sum(result.problems.get(name, {}).values())
            table.add_row(status if position == 0 else "", name, f"{result.rows.get(name, 0):,}",
                          f"{result.deleted.get(name, 0):,}" if result.deleted.get(name) else "",
                          f"{problems:,}" if problems else "",
                          end_section=position == len(names) - 1)
        if result.error:
            table.add_row("", f"[red]{result.error}[/]", "", "", "", end_section=True)
    stdout.print(table)
    stdout.print("Open the warehouse read-only (a DuckDB file: while nothing writes to it) in DuckDB's shell:")
    stdout.print(f"  crmsync sql --warehouse '{warehouse}'", soft_wrap=True)


def transform_summary(result: TransformResult, warehouse: Path) -> None:
    """The models built (rows, seconds), the tests that did not pass, the segments, the verdict."""
    models = Table(title=f"crmsync transform → {warehouse}")
    for column, justify in (("model", "left"), ("as", "left"), ("rows", "right"), ("seconds", "right"),
                            ("tests", "left")):
        models.add_column(column, justify=justify)
    for model in result.models:
        tests = [t for t in result.tests if t.model == model.name]
        passed = sum(t.status == "pass" for t in tests)
        verdict = f"[green]{passed} passed[/]" if passed == len(tests) else f"[red]{len(tests) - passed} failed[/]"
        models.add_row(model.name, model.materialized + (" (empty: raw table missing)" if model.empty else ""),
                       f"{model.rows:,}", f"{model.seconds:.2f}", verdict if tests else "")
    stdout.print(models)
    from crmsync.transforms.runner import tests_failed_message

    for test in result.failed_tests:
        stdout.print(f"✗ {test.message}", soft_wrap=True, highlight=False, markup=False, style="red")
    if result.segments:
        stdout.print(segment_sizes(result))
    if result.status == "ok":
        stdout.print(f"[green]ok[/] in {result.seconds:.1f}s")
        return
    # The failing tests are printed above in full; a build error is said here.
    tests_only = result.failed_tests and result.error == tests_failed_message(result.failed_tests)
    cause = f"{len(result.failed_tests)} data test(s) failed" if tests_only else result.error
    stdout.print(f"[red]failed[/], rolled back: the warehouse keeps the previous run's models and segments. "
                 f"{cause}", soft_wrap=True, highlight=False)


def segment_sizes(result: TransformResult) -> Table:
    table = Table(title="segments")
    for column, justify in (("segment", "left"), ("size", "right"), ("entered", "right"), ("left", "right")):
        table.add_column(column, justify=justify)
    for name, segment in result.segments.items():
        table.add_row(name, f"{segment.size:,}", f"+{segment.entered:,}", f"-{segment.left:,}")
    return table


def segments_overview(statuses: list[SegmentStatus]) -> None:
    """`segments list`: name, size, change in the latest run, push targets."""
    table = Table(title="segments")
    for column, justify in (("segment", "left"), ("size", "right"), ("change", "right"), ("push to", "left")):
        table.add_column(column, justify=justify)
    for status in statuses:
        change = f"+{status.entered:,} -{status.left:,}" if status.last_run else "not built yet"
        size = f"{status.size:,}" if status.size is not None else "-"
        push = "\n".join(str(target) for target in status.segment.push.values()) or "-"
        table.add_row(f"{status.segment.name}\n[dim]{status.segment.description}[/]", size, change, push,
                      end_section=True)
    stdout.print(table)


def segment_members(name: str, columns: list[str], rows: list[tuple], total: int) -> None:
    """`segments show`: the first members with their name, phone and email."""
    table = Table(title=f"{name}: {len(rows):,} of {total:,} members")
    # The whole name stands for its parts (--json and --csv have them); ids, phones and emails
    # stay on one line, whole: a marketer copies them from here.
    shown = [i for i, c in enumerate(columns) if "full_name" not in columns or c not in ("first_name", "last_name")]
    for i in shown:
        whole = columns[i] == "person_id" or any(w in columns[i] for w in ("phone", "email"))
        table.add_column(columns[i], no_wrap=whole, overflow="fold")
    for row in rows:
        table.add_row(*("" if row[i] is None else str(row[i]) for i in shown))
    stdout.print(table)


def push_summary(result: PushResult, warehouse: Path, verbose: bool = False) -> None:
    """`push`: a line per segment and provider with the adds, removes, rejections and held
    removals (in a dry run, what it would do), then what needs words: a target's failure,
    drift, re-sent and hand-made memberships, rejection reasons, and in a dry run a few of who
    would change per segment. `verbose`: every target by name with its own sample."""
    verb = "would push" if result.dry_run else "push"
    table = Table(title=f"crmsync {verb} ← {warehouse}")
    for column, justify in (("segment", "left"), ("provider", "left"), ("added", "right"), ("removed", "right"),
                            ("rejected", "right"), ("held", "right")):
        table.add_column(column, justify=justify, overflow="fold")
    for segment, targets in result.segments.items():
        for position, (provider, target) in enumerate(targets.items()):
            table.add_row(segment if position == 0 else "", f"{provider}{_push_flag(target)}", f"+{target.added:,}",
                          f"-{target.removed:,}", _nonzero(target.rejected, "yellow"), _nonzero(target.held, "yellow"),
                          end_section=position == len(targets) - 1)
    stdout.print(table)
    if any(t.created for t in result.targets()):
        stdout.print("[dim]new[/]: the target does not exist yet and would be created.")
    for segment, targets in result.segments.items():
        for provider, target in targets.items():
            notes = _push_notes(target, verbose)
            if notes and verbose:
                stdout.print(f"{segment} → {target.target}")
                for note in notes:
                    stdout.print(f"  {note}")
            elif notes:
                stdout.print(f"{segment} → {provider}: " + "; ".join(notes))
        if result.dry_run and not verbose:
            for change, sign in (("add", "+"), ("remove", "-")):
                head = f"{segment} {sign} "
                who = _who((m for t in targets.values() for m in t.sample.get(change) or []), WIDTH - len(head))
                if who:
                    stdout.print(head + who)
    if any(t.held for t in result.targets()):
        stdout.print("[yellow]held[/]: removals the mass-removal guard kept back (more than push.max_removal_share "
                     "of a target, or all of it); run again with --allow-mass-removal to apply them.")
    if result.dry_run:
        stdout.print("dry run: nothing was written." + ("" if verbose else " --verbose: each target and its sample."))
    elif result.status == "ok":
        stdout.print(f"[green]ok[/] in {result.seconds:.1f}s (run {result.run_id})")
    else:
        stdout.print(f"[red]failed[/]: a provider or target failed (run {result.run_id}); what the providers "
                     "confirmed is kept, the rest is pushed on the next run.")


def _nonzero(value: int, colour: str) -> str:
    return f"[{colour}]{value:,}[/]" if value else "0"


def _push_flag(target: TargetResult) -> str:
    if target.status != "ok":
        return " [red]failed[/]"
    return " [dim]new[/]" if target.created else ""


def _push_notes(target: TargetResult, verbose: bool) -> list[str]:
    """The error; drift, re-sent and hand-made memberships; the first rejection reasons;
    `verbose`: also whether the target would be created and the dry run's sample of who."""
    if target.status != "ok":
        return [f"[red]failed: {target.error}[/]"]
    lines = ["[dim]target would be created[/]"] if verbose and target.created else []
    for count, text in ((target.drift, "lost in the provider (drift)"), (target.restored, "of the adds put back"),
                        (target.resent, "sent again (--full-resync)"),
                        (target.by_hand, "there by hand, not crmsync's: left alone")):
        if count:
            lines.append(f"{count:,} {text}")
    for change, sign in (("add", "+"), ("remove", "-")):
        who = _who(target.sample.get(change) or [], WIDTH - 4) if verbose else ""
        if who:
            lines.append(f"{sign} {who}")
    return lines + [f"[yellow]{error}[/]" for error in target.errors]


def _who(members: Iterable[dict], room: int) -> str:
    """A few people by name (else phone, else id), each once, as many as `room` characters
    hold (at least one)."""
    names = list(dict.fromkeys(m["name"] or m["phone_e164"] or m["person_id"] for m in members))[:SAMPLE]
    while len(names) > 1 and len(", ".join(names)) > room:
        names.pop()
    return ", ".join(names)


def run_report(summary: dict, warehouse: Path) -> None:
    """`run`: rows per provider and table, segment sizes and change, pushes, then the verdict."""
    if summary.get("providers"):  # a skipped run synced nothing: its reason is the report
        _run_sync_table(summary, warehouse)
        if summary["segments"]:
            _records_table("segments", [{"segment": name, **figures, "change": f"{figures['change']:+,}"}
                                        for name, figures in summary["segments"].items()],
                           ["segment", "size", "change", "entered", "left"])
        pushes = [{"segment": segment, "provider": provider, **counts}
                  for segment, providers in summary["pushes"].items() for provider, counts in providers.items()]
        _records_table("pushes", pushes, ["segment", "provider", "added", "removed", "held", "rejected"])
        for step in ("transform", "push"):
            if summary[step]["status"] != "ok":
                stdout.print(f"{step}: {summary[step]['status']} ({summary[step]['reason']})", soft_wrap=True,
                             highlight=False, markup=False)
    colour = STATUS_COLOURS.get(summary.get("state"), "red")
    reason = f": {summary['reason']}" if summary.get("reason") else ""
    stdout.print(Text.assemble((str(summary.get("state")), colour), reason), soft_wrap=True)


def _run_sync_table(summary: dict, warehouse: Path) -> None:
    table = Table(title=f"crmsync run → {warehouse}")
    for column, justify in (("provider", "left"), ("table", "left"), ("loaded", "right"), ("deleted", "right")):
        table.add_column(column, justify=justify)
    for provider, result in summary["providers"].items():
        names = sorted(set(result["rows"]) | set(result["deleted"]) | set(result["read"])) or ["-"]
        status = f"{provider}\n[{STATUS_COLOURS.get(result['status'], 'red')}]{result['status']}[/]"
        for position, name in enumerate(names):
            table.add_row(status if position == 0 else "", name, f"{result['rows'].get(name, 0):,}",
                          f"{result['deleted'].get(name, 0):,}", end_section=position == len(names) - 1)
        if result["error"]:
            # Text, not markup: errors quote things like "[Errno 111]".
            table.add_row("", Text(result["error"], style="red"), "", "", end_section=True)
    stdout.print(table)


def _cell(value: object) -> str:
    if isinstance(value, datetime):  # to the second, in UTC: status tables stay narrow
        return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def _minute(value: object) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else "never"


def status_report(status: Status) -> None:
    """`status`: last runs, freshness, failing providers, rows, segments, held and rejected pushes."""
    if not status.last_runs and not status.raw_rows:
        stdout.print(f"{status.warehouse}: no runs yet; run crmsync run")
        return
    _records_table("last run of each flow", status.last_runs,
                   ["flow", "status", "finished_at", "error"])
    if status.last_push:
        _records_table("last push", [status.last_push],
                       ["status", "finished_at", "added", "removed", "rejected", "held"])
    # One line per table at 80 columns: provider.table, minutes, the latest attempt in one cell.
    _records_table("freshness per provider and table", [
        {"table": f"{r['provider']}.{r['table']}", "fresh at": _minute(r["fresh_at"]),
         "last run": f"ok +{r['last_loaded'] or 0:,}" if r["last_status"] == "ok" else r["last_status"],
         "rows now": status.raw_rows.get(f"raw_{r['provider']}.{r['table']}", "")} for r in status.freshness],
        ["table", "fresh at", "last run", "rows now"])
    _records_table("staleness of what is re-checked record by record (within the run budget)", [
        {"resource": f"{r['provider']}.{r['resource']}", "records": r["records"],
         "oldest h": r["oldest_hours"], "median h": r["median_hours"]} for r in status.staleness],
        ["resource", "records", "oldest h", "median h"])
    _records_table("providers failing now", status.failing_providers, ["provider", "tables", "at", "error"])
    _records_table("segments", status.segments, ["segment", "size", "entered", "left", "built_at"])
    _records_table("held and rejected in the last push", status.held_rejected,
                   ["segment", "provider", "status", "members", "example_error"])


def _records_table(title: str, records: list[dict], columns: list[str]) -> None:
    if not records:
        return
    table = Table(title=title)
    for column in columns:  # folded onto a second line, never cut short with "…"
        table.add_column(column, overflow="fold")
    for record in records:
        table.add_row(*("" if record.get(c) is None else _cell(record.get(c)) for c in columns))
    stdout.print(table)


def person_report(people: list[Person]) -> None:
    """`person`: per person found, who they are, their provider records, segment stays and pushes."""
    for found in people:
        about = found.person
        providers = ", ".join(about.get("providers") or [])
        stdout.print(Text.assemble(("person ", "bold"), (found.person_id, "bold"), " ",
                                   " · ".join(str(v) for v in (about.get("full_name"), about.get("phone_e164"),
                                                               about.get("email"), providers) if v)))
        _records_table("records in every provider", [
            {**c, "contact": f"{c['provider']}:{c['contact_id']}", "phone": c["phone_e164"] or c["phone_raw"],
             "state": f"deleted {_cell(c['deleted_at'])}" if c["deleted_at"] else "live"} for c in found.contacts],
            ["contact", "phone", "email", "state"])
        _records_table("segments", [{**s, "left_at": s["left_at"] or "still in"} for s in found.segments],
                       ["segment", "entered_at", "left_at"])
        _records_table("pushes made for them", [
            {**p, "change": f"{p['operation']} {p['status']}"} for p in found.pushes],
            ["at", "provider", "segment", "change", "error"])
        if not found.pushes:
            stdout.print("no push made for them yet")
