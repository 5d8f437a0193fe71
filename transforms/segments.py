"""Segments: `segments/<name>.sql` files, one SELECT returning `person_id` each.

A segment's header says what it is and where it is pushed, one line per provider:

    -- description: Customers whose paid orders add up to 500 or more
    -- push: chatman segment "High value"
    -- push: dmchamp list list_high_value
    -- push: whautomate tag "high-value"
    -- push: waabot group "High value"
    -- push: chatrace tag "high_value"

Each run writes `crm.segment_members` (segment, person_id: who is in each segment now),
keeps `crm.segment_history` (segment, person_id, entered_at, left_at: one row per stay, so a
person who leaves and comes back has two rows) and adds a row per segment to
`crm.segment_runs` (run_at, segment, size, entered, left), which says what changed in the
latest run even when nothing did.

A target's name is normalised before it is used (see `target_name`), so the same header
gives the same provider-side name on every run and machine, and two segments that would land
on one provider-side target are refused.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
from crmsync.kernel.errors import UserError
from crmsync.kernel.push import PushTarget
from crmsync.kernel.warehouse import open_warehouse, relations
from crmsync.sources import registry
from crmsync.transforms.checks import literal, quote
from crmsync.transforms.models import parse_select, read_header

SQL = Path(__file__).parent / "sql"
# A target is a quoted name, or a bare id where the provider's PushRule says so (DM Champ lists).
PUSH_LINE = re.compile(r'(?P<provider>\w+)\s+(?P<kind>\w+)\s+(?:"(?P<quoted>[^"]+)"|(?P<bare>[^\s"]+))$')
# No provider documents a limit; a longer name keeps its start and a hash of the whole, so
# it stays the same every run and apart from other long names.
MAX_TARGET_NAME = 100
SEGMENT_HEADER = ("description", "push")  # the keys a segment file's header may set


@dataclass(frozen=True)
class Segment:
    name: str
    description: str
    push: dict[str, PushTarget]  # provider -> where the segment goes there
    path: Path
    sql: str = field(repr=False)


@dataclass
class SegmentResult:
    """One segment in one run: its size and who entered and left it."""

    size: int
    entered: int
    left: int
    push: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SegmentStatus:
    """What `segments list` shows: the file's segment and its latest run, if any."""

    segment: Segment
    size: int | None = None
    entered: int | None = None
    left: int | None = None
    last_run: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.segment.name, "description": self.segment.description,
                "size": self.size, "entered": self.entered, "left": self.left, "last_run": self.last_run,
                "push": {p: str(t) for p, t in self.segment.push.items()}}


def load_segments(folder: Path) -> list[Segment]:
    """Every segment file of `folder`, by name; a file that does not parse, or two files
    pushing to one provider-side target, is a UserError."""
    segments = [load_segment(path) for path in sorted(folder.glob("*.sql"))] if folder.is_dir() else []
    require_distinct_targets(segments)
    return segments


def require_distinct_targets(segments: list[Segment]) -> None:
    """Two segments on one target would undo each other's pushes every run."""
    seen: dict[tuple[str, str], Segment] = {}
    for segment in segments:
        for provider, target in segment.push.items():
            key = (provider, registry.provider(provider).push.identity(target.name))
            if key in seen:
                raise UserError(f"{segment.path} and {seen[key].path} push to the same {provider} "
                                f"{target.kind} ({target} and {seen[key].push[provider]})")
            seen[key] = segment


def push_kinds() -> dict[str, str]:
    """Provider -> the kind of target a segment header names there."""
    return {p.name: p.push.kind for p in registry.providers() if p.push}


def push_forms() -> str:
    """How each provider's push line is written, for messages."""
    return "; ".join(f"{p.name} {p.push.kind} " + ("<id>" if p.push.bare_id else '"<name>"')
                     for p in registry.providers() if p.push)


def target_name(provider: str, written: str) -> str:
    """The name sent to the provider, the same however the header was typed: Unicode NFC
    (a name typed on a Mac and one typed elsewhere are one name), control characters and runs
    of white space as one space, none at the ends; longer than MAX_TARGET_NAME, its start and
    a hash of the whole. Ids (DM Champ list ids) are ids: only NFC."""
    name = unicodedata.normalize("NFC", written)
    if registry.provider(provider).push.bare_id:
        return name
    name = " ".join("".join(" " if unicodedata.category(c) == "Cc" else c for c in name).split())
    if len(name) > MAX_TARGET_NAME:
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        name = f"{name[:MAX_TARGET_NAME - 9].rstrip()}~{digest}"
    return name


def load_segment(path: Path) -> Segment:
    text = path.read_text()
    _, sql = parse_select(path, text)
    header = read_header(path, text, SEGMENT_HEADER)
    descriptions = [value for key, value in header if key == "description"]
    push: dict[str, PushTarget] = {}
    for key, value in header:
        if key != "push":
            continue
        target = parse_push(path, value)
        if target.provider in push:
            raise UserError(f"{path}: two push lines for {target.provider}")
        push[target.provider] = target
    return Segment(name=path.stem, description=descriptions[-1] if descriptions else "", push=push,
                   path=path, sql=sql)


def parse_push(path: Path, line: str) -> PushTarget:
    """`chatman segment "Name"` -> PushTarget; anything else names the file and the line."""
    match = PUSH_LINE.match(line.strip())
    rule = next((p.push for p in registry.providers() if match and p.name == match.group("provider")), None)
    quoted = match is not None and match.group("quoted") is not None
    if not match or rule is None or match.group("kind") != rule.kind or quoted == rule.bare_id:
        raise UserError(f"{path}: bad push line {line!r}; write one of: {push_forms()}")
    name = target_name(match.group("provider"), match.group("quoted") or match.group("bare"))
    if not name:
        raise UserError(f"{path}: bad push line {line!r}: the name is empty")
    return PushTarget(match.group("provider"), rule.kind, name, bare=rule.bare_id)


def build_segments(con: duckdb.DuckDBPyConnection, segments: list[Segment],
                   run_at: datetime) -> dict[str, SegmentResult]:
    """Write members, history and the run's row per segment, inside the caller's transaction."""
    for segment in segments:
        require_person_id(con, segment)
    try:
        return write_members(con, segments, run_at)
    except duckdb.Error as error:  # a segment failing on the data (a bad cast...): the run fails
        raise SegmentFailed(f"segments ({', '.join(s.name for s in segments)}): {first_line(error)}") from None


def write_members(con: duckdb.DuckDBPyConnection, segments: list[Segment],
                  run_at: datetime) -> dict[str, SegmentResult]:
    con.execute(f"CREATE OR REPLACE TEMP TABLE _segment_now AS {members_sql(segments)}")
    con.execute("CREATE SCHEMA IF NOT EXISTS crm")
    con.execute("CREATE OR REPLACE TABLE crm.segment_members AS "
                "SELECT segment, person_id FROM _segment_now ORDER BY segment, person_id")
    con.execute(sql_file("segment_tables"))
    left = history_change(con, "segment_left", "segment_leave", run_at)
    entered = history_change(con, "segment_entered", "segment_enter", run_at)
    sizes = dict(con.execute("SELECT segment, count(*) FROM _segment_now GROUP BY segment").fetchall())
    results = {s.name: SegmentResult(size=sizes.get(s.name, 0), entered=entered[s.name], left=left[s.name],
                                     push={p: str(t) for p, t in s.push.items()}) for s in segments}
    if results:
        con.executemany('INSERT INTO crm.segment_runs (run_at, segment, size, entered, "left") '
                        'VALUES (?, ?, ?, ?, ?)', [[run_at, name, r.size, r.entered, r.left]
                                                   for name, r in results.items()])
    con.execute("DROP TABLE _segment_now")
    return results


def history_change(con: duckdb.DuckDBPyConnection, chosen: str, change: str, run_at: datetime) -> Counter[str]:
    """Choose the history's rows that change (`chosen`.sql into _<chosen>), apply `change`.sql
    to them, and count them per segment."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _{chosen} AS {sql_file(chosen)}")
    con.execute(sql_file(change), {"run_at": run_at})
    counts = Counter(dict(con.execute(f"SELECT segment, count(*) FROM _{chosen} GROUP BY segment").fetchall()))
    con.execute(f"DROP TABLE _{chosen}")
    return counts


def require_person_id(con: duckdb.DuckDBPyConnection, segment: Segment) -> None:
    """A segment must return a person_id column; say so naming the file, before it is used."""
    try:
        columns = [d[0] for d in con.execute(f"SELECT * FROM (\n{segment.sql}\n) LIMIT 0").description]
    except duckdb.Error as error:
        raise SegmentFailed(f"{segment.path}: {first_line(error)}") from None
    if "person_id" not in (c.lower() for c in columns):
        raise UserError(f"{segment.path}: returns no person_id column (it returns {', '.join(columns)})")


def members_sql(segments: list[Segment]) -> str:
    """Every segment's distinct, non-null person_ids with the segment's name, as one query."""
    if not segments:
        return "SELECT CAST(NULL AS VARCHAR) AS segment, CAST(NULL AS VARCHAR) AS person_id WHERE false"
    return "\nUNION ALL\n".join(
        f"SELECT DISTINCT {literal(s.name)} AS segment, person_id FROM (\n{s.sql}\n) AS {quote(s.name)} "
        f"WHERE person_id IS NOT NULL" for s in segments)


class SegmentFailed(Exception):
    """A segment's SQL failed in DuckDB: the run fails (exit 1) naming the file."""


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def sql_file(name: str) -> str:
    return (SQL / f"{name}.sql").read_text()


def segment_overview(warehouse: Path, root: Path) -> list[SegmentStatus]:
    """Every segment file with its size and change in the latest run (None before any run).
    The segment commands open the warehouse confined, as the run that built it: what they read
    may be a view that a model file wrote (crm.people), and reading a view runs its SQL."""
    segments = load_segments(root / "segments")
    with open_warehouse(warehouse, read_only=True, confined=True) as con:
        latest = {}
        if "crm.segment_runs" in relations(con):
            latest = {row[0]: row[1:] for row in con.execute(sql_file("segment_overview")).fetchall()}
    return [SegmentStatus(s, *latest[s.name]) if s.name in latest else SegmentStatus(s) for s in segments]


def segment_members(warehouse: Path, root: Path, name: str,
                    limit: int | None) -> tuple[list[str], list[tuple], int]:
    """(columns, up to `limit` (None: all) members with their name/phone/email from crm.people,
    total members)."""
    known = {s.name for s in load_segments(root / "segments")}
    with open_warehouse(warehouse, read_only=True, confined=True) as con:
        if not "crm.segment_members" in relations(con):
            raise UserError(f"{warehouse}: no segments built yet; run crmsync transform")
        built = {r[0] for r in con.execute("SELECT DISTINCT segment FROM crm.segment_members").fetchall()}
        if name not in known | built:
            raise UserError(f"unknown segment {name!r}; known: {', '.join(sorted(known | built)) or 'none'}")
        total = con.execute("SELECT count(*) FROM crm.segment_members WHERE segment = ?", [name]).fetchone()[0]
        people = person_columns(con)
        select = ", ".join(["m.person_id"] + [f"p.{quote(c)}" for c in people])
        join = "LEFT JOIN crm.people AS p USING (person_id)" if people else ""
        cursor = con.execute(f"SELECT {select} FROM crm.segment_members AS m {join} "
                             f"WHERE m.segment = ? ORDER BY m.person_id LIMIT ?", [name, limit])
        return [d[0] for d in cursor.description], cursor.fetchall(), total


def person_columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    """crm.people's name, phone and email columns (whatever the model calls them), in its order."""
    if not "crm.people" in relations(con):
        return []
    columns = [r[0] for r in con.execute("SELECT column_name FROM duckdb_columns() WHERE schema_name = 'crm' "
                                         "AND table_name = 'people' ORDER BY column_index").fetchall()]
    return [c for c in columns if c != "person_id" and any(w in c.lower() for w in ("name", "phone", "email"))]


