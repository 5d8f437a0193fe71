"""The `crmsync` command line: parses arguments and calls the functions tests also call."""

from __future__ import annotations

import json
import os
import shlex
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Annotated, Optional

import typer

from crmsync.kernel.errors import UserError
from crmsync.kernel.lake import Lake
from crmsync.kernel.overlap import run_lock
from crmsync.kernel.warehouse import parse_warehouse
from crmsync.sandbox.link import sandbox_environment, with_optional_values

app = typer.Typer(
    help="Sync WhatsApp CRM providers into DuckDB, model customers, push segments back.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",  # a docstring's line breaks join: help wraps to the terminal
)


def print_version(wanted: bool) -> None:
    if wanted:
        from importlib.metadata import version

        typer.echo(f"crmsync {version('crmsync')}")
        raise typer.Exit()


@app.callback()
def options(version: Annotated[bool, typer.Option(
        "--version", callback=print_version, is_eager=True, help="Print crmsync's version and exit.")] = False) -> None:
    # Options of crmsync itself, before any command (the app's help says what crmsync is).
    return None


sandbox_app = typer.Typer(help="The provider sandbox: every provider's API emulated on loopback.",
                          no_args_is_help=True)
segments_app = typer.Typer(help="Segments: list them, show their members.", no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(segments_app, name="segments")

Warehouse = Annotated[Path, typer.Option(
    envvar="CRMSYNC_WAREHOUSE", parser=parse_warehouse, metavar="WAREHOUSE",
    help="A DuckDB file, or a DuckLake (ducklake:postgres: and libpq keywords; README "
         "\"Beyond one machine\"), with warehouse.data_path set.")]
Sandbox = Annotated[Optional[str], typer.Option(
    "--sandbox", metavar="[URL]",
    help="Use the sandbox: bare, start one on a free port for this command; "
         "with a URL, use that running sandbox. Providers get the sandbox credentials.")]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


def known_providers(names: Optional[list[str]]) -> Optional[list[str]]:
    """An unknown name is refused as the command line is read, before any progress line."""
    from crmsync.sources import registry

    for name in names or []:
        registry.provider(name)
    return names


Providers = Annotated[Optional[list[str]], typer.Option(
    "--provider", callback=known_providers, help="Only this provider (repeatable).")]
Transforms = Annotated[Optional[Path], typer.Option(
    "--transforms", envvar="CRMSYNC_TRANSFORMS",
    help="Project folder of the SQL models (intermediate/, marts/, staging/<provider>/: "
         "without it, the providers' own) and segments/ (default: the shipped transforms/project/).")]
DEFAULT_WAREHOUSE = Path("crmsync.duckdb")


@sandbox_app.command("serve")
def sandbox_serve(
    host: str = "127.0.0.1",
    port: int = 8900,
    seed: Annotated[int, typer.Option(help="Same seed, same data.")] = 7,
    contacts: Annotated[int, typer.Option(help="People in the population.")] = 2000,
    latency_ms: Annotated[float, typer.Option(help="Added to every provider request.")] = 0.0,
    rate_limit: Annotated[Optional[float], typer.Option(
        help="Requests per second per provider; over it: 429 with Retry-After.")] = None,
    error_rate: Annotated[float, typer.Option(help="Share of requests answered 5xx.")] = 0.0,
) -> None:
    """Serve the sandbox until interrupted."""
    from crmsync.sandbox.faults import Faults
    from crmsync.sandbox.server import serve_forever
    from crmsync.sandbox.world import World

    url = f"http://{host}:{port}"
    typer.echo(f"crmsync sandbox: {contacts} people, seed {seed}, on {url}", err=True)
    typer.echo(f"point crmsync at it with --sandbox {url}, or: eval \"$(crmsync sandbox env {url})\"",
               err=True)
    faults = Faults(latency_ms=latency_ms, rate_limit=rate_limit, error_rate=error_rate)
    serve_forever(World(seed=seed, contacts=contacts), faults, host, port)


@sandbox_app.command("env")
def sandbox_env(url: Annotated[str, typer.Argument(help="The running sandbox.")] = "http://127.0.0.1:8900") -> None:
    """Print `export` lines that point every provider at a running sandbox."""
    for key, value in sandbox_environment(url).items():
        typer.echo(f"export {key}={shlex.quote(value)}")


@app.command()
def sync(
    provider: Providers = None,
    sandbox: Sandbox = None,
    warehouse: Warehouse = DEFAULT_WAREHOUSE,
    full_refresh: Annotated[bool, typer.Option(help="Reload everything from scratch.")] = False,
    json_output: Json = False,
) -> None:
    """Load what changed in each provider into the warehouse."""
    from crmsync.report import command_progress, sync_summary
    from crmsync.sandbox.link import linked_sandbox
    from crmsync.pipelines.sync import sync as run_sync

    check_configuration()
    with sole_writer(warehouse, "sync"), linked_sandbox(sandbox), \
            command_progress("sync", enabled=not json_output) as progress:
        results = run_sync(provider, warehouse, full_refresh, progress.rows if progress else None)
    if json_output:
        print_json({"providers": {p: r.as_dict() for p, r in results.items()}})
    else:
        sync_summary(results, warehouse)
    fail_with([r.error or f"{p}: failed" for p, r in results.items() if r.status != "ok"])


@app.command()
def transform(
    warehouse: Warehouse = DEFAULT_WAREHOUSE,
    select: Annotated[Optional[list[str]], typer.Option(
        help="Only this model and the models it reads (repeatable); segments are left as they are.")] = None,
    transforms: Transforms = None,
    json_output: Json = False,
) -> None:
    """Build the customer model and the segments from the raw data (all or nothing)."""
    from crmsync.report import command_progress, transform_summary
    from crmsync.transforms.runner import DEFAULT_ROOT, run_transforms

    check_configuration()
    with sole_writer(warehouse, "transform"), command_progress("transform", enabled=not json_output):
        result = run_transforms(warehouse, transforms or DEFAULT_ROOT, select)
    if json_output:
        print_json(result.as_dict())
    else:
        transform_summary(result, warehouse)
    if result.status != "ok":
        fail_with([f"transform failed, nothing of it was kept: {result.error}"])


@app.command()
def push(
    segment: Annotated[Optional[list[str]], typer.Option(help="Only this segment (repeatable).")] = None,
    provider: Providers = None,
    # Flags without a --no- twin: the help then fits 80 columns whole.
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the changes, write nothing.")] = False,
    allow_mass_removal: Annotated[bool, typer.Option(
        "--allow-mass-removal", help="Apply removals the mass-removal guard would hold back.")] = False,
    full_resync: Annotated[bool, typer.Option(
        "--full-resync", help="Send every membership of each target again, not only the differences "
                              "(idempotent; repairs what a provider cannot show, such as DM Champ lists).")] = False,
    verbose: Annotated[bool, typer.Option(
        "--verbose", help="Name every target, with a sample of who changes in each.")] = False,
    sandbox: Sandbox = None,
    warehouse: Warehouse = DEFAULT_WAREHOUSE,
    transforms: Transforms = None,
    json_output: Json = False,
) -> None:
    """Push segment membership changes back to the providers."""
    from crmsync.report import command_progress, push_summary
    from crmsync.sandbox.link import linked_sandbox
    from crmsync.pipelines.push import push as run_push
    from crmsync.transforms.runner import DEFAULT_ROOT

    check_configuration()
    # A dry run writes nothing, so it takes no lock (DuckDB refuses its read-only open while
    # another process writes the file anyway).
    with nullcontext() if dry_run else sole_writer(warehouse, "push"), linked_sandbox(sandbox), \
            command_progress("push", enabled=not json_output) as progress:
        result = run_push(warehouse, segment, provider, dry_run, allow_mass_removal, transforms or DEFAULT_ROOT,
                          full_resync=full_resync, progress=progress.members if progress else None)
    if json_output:
        print_json(result.as_dict())
    else:
        push_summary(result, warehouse, verbose)
    if result.status != "ok":
        fail_with(list(dict.fromkeys(f"{target.target}: {target.error}" for target in result.targets()
                                     if target.status != "ok")) or ["push failed"])


@app.command()
def run(
    sandbox: Sandbox = None,
    warehouse: Warehouse = DEFAULT_WAREHOUSE,
    no_push: Annotated[bool, typer.Option("--no-push", help="Stop after transform.")] = False,
    provider: Providers = None,
    full_scan: Annotated[bool, typer.Option(
        "--full-scan", help="Run the full-scan flow: every full scan forced, deletions marked.")] = False,
    transforms: Transforms = None,
    json_output: Json = False,
) -> None:
    """Run the whole job once as a Prefect flow: sync, transform, push (progress on stderr)."""
    check_configuration()
    writable_warehouse(warehouse)
    from crmsync.report import ProgressLines, run_report
    from crmsync.flows.run import run_once

    with nullcontext() if json_output else ProgressLines() as progress:
        summary = run_once(warehouse, sandbox, push=not no_push, transforms=transforms, providers=provider,
                           full_scan=full_scan, progress=progress)
    if json_output:
        print_json(summary)
    else:
        run_report(summary, warehouse)
    if summary.get("state") not in ("ok", "skipped"):
        fail_with([f"run {summary.get('state')}: {summary.get('reason')}"])


@app.command()
def serve(warehouse: Warehouse = DEFAULT_WAREHOUSE) -> None:
    """Run the flows on their schedules until interrupted (Ctrl-C, SIGINT or SIGTERM)."""
    from crmsync.flows.serve import serve_forever

    check_configuration()
    serve_forever(writable_warehouse(warehouse).absolute(), say=lambda line: typer.echo(line, err=True))


@app.command()
def status(warehouse: Warehouse = DEFAULT_WAREHOUSE, json_output: Json = False,
           check: Annotated[bool, typer.Option(
               "--check", help="Exit 1 when a monitor crosses its threshold: a failed run, held or "
                               "rejected pushes, a provider staler than its freshness_hours.")] = False) -> None:
    """Last runs, freshness per provider and table, segment sizes, held and rejected pushes."""
    from crmsync.report import status_report
    from crmsync.flows import alerts
    from crmsync.flows.status import read_status

    if check:
        check_configuration()
    current = read_status(warehouse)
    found = alerts.check(current, alerts.alert_settings()) if check else []
    if json_output:
        print_json({**current.as_dict(), **({"alerts": [a.as_dict() for a in found]} if check else {})})
    else:
        status_report(current)
    fail_with([f"alert [{a.monitor}] {a.text}" for a in found])


@segments_app.command("list")
def segments_list(warehouse: Warehouse = DEFAULT_WAREHOUSE, transforms: Transforms = None,
                  json_output: Json = False) -> None:
    """Every segment: size, change since the last run, push targets."""
    from crmsync.report import segments_overview
    from crmsync.transforms.runner import DEFAULT_ROOT
    from crmsync.transforms.segments import segment_overview

    statuses = segment_overview(warehouse, transforms or DEFAULT_ROOT)
    if json_output:
        print_json({"segments": [status.as_dict() for status in statuses]})
    else:
        segments_overview(statuses)


@segments_app.command("show")
def segments_show(
    name: Annotated[str, typer.Argument(help="The segment (its file name without .sql).")],
    limit: Annotated[int, typer.Option(help="Show at most this many members.")] = 20,
    warehouse: Warehouse = DEFAULT_WAREHOUSE,
    transforms: Transforms = None,
    json_output: Json = False,
    csv_output: Annotated[bool, typer.Option("--csv", help="Print the members as CSV on stdout.")] = False,
) -> None:
    """The members of one segment, with their best name, phone and email."""
    from crmsync.exports import members_document, write_csv
    from crmsync.report import segment_members as show_members
    from crmsync.transforms.runner import DEFAULT_ROOT
    from crmsync.transforms.segments import segment_members

    if limit < 0:
        raise UserError("--limit must be 0 or more")
    if json_output and csv_output:
        raise UserError("segments show: --json or --csv, not both")
    columns, rows, total = segment_members(warehouse, transforms or DEFAULT_ROOT, name, limit)
    if json_output:
        print_json(members_document(name, columns, rows, total))
    elif csv_output:
        write_csv(columns, rows, sys.stdout)
    else:
        show_members(name, columns, rows, total)


@segments_app.command("export")
def segments_export(
    name: Annotated[str, typer.Argument(help="The segment (its file name without .sql).")],
    out: Annotated[Path, typer.Option(help="The file to write (replaced).")],
    file_format: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "csv",
    warehouse: Warehouse = DEFAULT_WAREHOUSE,
    transforms: Transforms = None,
) -> None:
    """Write every member of one segment, with their best name, phone and email, to a file."""
    from crmsync.exports import write_members
    from crmsync.transforms.runner import DEFAULT_ROOT
    from crmsync.transforms.segments import segment_members

    columns, rows, total = segment_members(warehouse, transforms or DEFAULT_ROOT, name, None)
    write_members(columns, rows, out, file_format)
    typer.echo(f"wrote {total:,} members of {name} to {out}", err=True)


@app.command()
def person(
    identifier: Annotated[str, typer.Argument(metavar="ID|PHONE|EMAIL",
                                              help="A person_id, a phone (any shape) or an email.")],
    warehouse: Warehouse = DEFAULT_WAREHOUSE,
    json_output: Json = False,
) -> None:
    """One person: their records in every provider, their segments (entered, left) and every
    push made for them."""
    from crmsync.person import find_people
    from crmsync.report import person_report

    people = find_people(warehouse, identifier)
    if json_output:
        print_json({"people": [p.as_dict() for p in people]})
    else:
        person_report(people)


@app.command()
def docs(
    out: Annotated[Path, typer.Option(help="Folder to write the site into.")] = Path("crmsync-docs"),
    serve: Annotated[bool, typer.Option("--serve", help="Then serve it on loopback until Ctrl-C.")] = False,
    port: Annotated[int, typer.Option(help="Port for --serve (0: a free one).")] = 8800,
    warehouse: Warehouse = DEFAULT_WAREHOUSE,
    transforms: Transforms = None,
) -> None:
    """Write the docs site: models with columns, descriptions and tests, the lineage graph,
    segments with size over time and their latest pushes, provider freshness."""
    from crmsync.docs.render import write_site
    from crmsync.docs.serve import site_server
    from crmsync.docs.site import gather
    from crmsync.transforms.runner import DEFAULT_ROOT

    index = write_site(gather(warehouse, transforms or DEFAULT_ROOT), out)
    typer.echo(f"wrote {index}", err=True)
    if serve:
        with site_server(out, warehouse, port=port) as server:
            typer.echo(f"serving on http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C stops)", err=True)
            try:
                server.serve_forever()
            except KeyboardInterrupt:
                pass


@app.command()
def bench(
    contacts: Annotated[int, typer.Option(help="Contacts of the benchmark population.")] = 100_000,
    only: Annotated[Optional[list[str]], typer.Option(
        help="Only this item (repeatable): sync, declarative, rate_limit, memory, transforms, push, "
             "lake, incremental.")] = None,
    skip: Annotated[Optional[list[str]], typer.Option(help="Leave this item out (repeatable).")] = None,
    json_output: Json = False,
) -> None:
    """Measure sync, incremental, transform and push costs against sandboxes in their own
    processes. Exits 0 when a target is missed (a measurement), 1 when the benchmark fails."""
    from crmsync.benchmarks.report import bench_table, progress_printer
    from crmsync.benchmarks.run import ITEMS, run_bench

    unknown = sorted((set(only or []) | set(skip or [])) - set(ITEMS))
    if unknown:
        raise UserError(f"bench: unknown item(s) {', '.join(unknown)}; known: {', '.join(ITEMS)}")
    if contacts < 10:
        raise UserError("bench: --contacts must be at least 10")
    items = tuple(i for i in ITEMS if (not only or i in only) and i not in (skip or []))
    try:
        document = run_bench(contacts, items, progress_printer())
    except Exception as error:  # noqa: BLE001 - one line, not a traceback: the benchmark failed
        typer.echo(f"error: bench failed: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}",
                   err=True)
        raise typer.Exit(1) from None
    if json_output:
        print_json(document)
    else:
        bench_table(document)


@app.command()
def sql(
    query: Annotated[Optional[str], typer.Argument(help="The query; without it, DuckDB's shell.")] = None,
    warehouse: Warehouse = DEFAULT_WAREHOUSE,
    json_output: Json = False,
    csv_output: Annotated[bool, typer.Option("--csv", help="Print CSV with a header line on stdout.")] = False,
) -> None:
    """Query the warehouse read-only, or open DuckDB's shell on it (either kind, attached for you)."""
    from crmsync.sql_command import open_shell, run_query

    if query is None:
        raise typer.Exit(open_shell(warehouse))
    run_query(warehouse, query, "json" if json_output else "csv" if csv_output else "table")


def check_configuration() -> None:
    """Refuse a misspelt or unknown key in crmsync's sections, or an alert URL Apprise cannot
    use, before anything runs."""
    from crmsync.flows import alerts
    from crmsync.flows.settings import PROVIDER_CRON, FlowSettings
    from crmsync.sources.common.config import check_known_keys
    from crmsync.transforms.functions import DEFAULT_REGION_KEY

    transform_section, region = DEFAULT_REGION_KEY.split(".")
    check_known_keys({"flow": FlowSettings.__dataclass_fields__.keys(), "push": {"max_removal_share", "on_drift"},
                      "warehouse": {"memory_limit", "threads", "max_value_bytes", "data_path"}, transform_section: {region},
                      "alerts": alerts.KEYS}, provider_keys={alerts.PROVIDER_KEY, PROVIDER_CRON})
    alerts.alert_settings()


def writable_warehouse(warehouse: Path) -> Path:
    """The warehouse path, if crmsync can write the file and the dlt folder beside it; a path
    that cannot be written is refused before anything (a half-made warehouse) is created.
    A lake is checked when it is attached."""
    if isinstance(warehouse, Lake):
        return warehouse
    folder = warehouse.absolute().parent
    where = f"warehouse {warehouse} (--warehouse or CRMSYNC_WAREHOUSE)"
    if warehouse.is_dir():
        raise UserError(f"{where}: is a folder, not a DuckDB file")
    if not folder.is_dir():
        raise UserError(f"{where}: {folder} is not an existing folder")
    if warehouse.exists() and not os.access(warehouse, os.R_OK | os.W_OK):
        raise UserError(f"{where}: the file is not writable")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UserError(f"{where}: the folder {folder} is not writable")
    return warehouse


@contextmanager
def sole_writer(warehouse: Path, command: str) -> Iterator[None]:
    """The block as the warehouse's one writer: it must be writable, and the command holds
    the lock `crmsync run` holds for its whole job (kernel/overlap.py). One started while
    another holds it stops at once naming it (exit 2); the lock goes with the block, on an
    error too, and with the process when it is killed (a dead pid's lock is taken over).
    A lake has many writers: its syncs lock each provider (pipelines/sync.py), the other
    commands their own part of the lake on this machine."""
    if isinstance(warehouse, Lake):
        warehouse = warehouse.scoped(command)
        if command == "sync":
            yield
            return
    with run_lock(writable_warehouse(warehouse), f"crmsync {command}"):
        yield


def fail_with(errors: list[str]) -> None:
    """A command that ran but failed: each error as one line on stderr, exit 1 (the summary
    on stdout says the rest)."""
    if not errors:
        return
    for error in errors:
        typer.echo(f"error: {one_line(error)}", err=True)
    raise typer.Exit(1)


def one_line(text: str) -> str:
    return " ".join(text.split())


def print_json(document: object) -> None:
    """The one JSON document a `--json` command prints on stdout."""
    sys.stdout.write(json.dumps(document, indent=2, default=str) + "\n")


def main() -> None:
    try:
        app(args=with_optional_values(sys.argv[1:]), prog_name="crmsync")
    except UserError as error:
        typer.echo(f"error: {one_line(str(error))}", err=True)
        sys.exit(2)
