"""A marketer's look-ups on a looped warehouse: a segment's members as JSON, CSV or a Parquet
file with whole phones and emails, and one person's records, segments and pushes."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from crmsync.kernel.errors import UserError
from crmsync.person import find_people
from tests.reading.conftest import Ran

SEGMENT = "multi_provider"


def rows(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def members(warehouse: Path) -> dict[str, tuple]:
    """person_id -> (phone_e164, email) of the segment's members, from the warehouse itself."""
    return {p: (phone, email) for p, phone, email in rows(
        warehouse, "SELECT person_id, phone_e164, email FROM crm.segment_members JOIN crm.people USING (person_id) "
                   "WHERE segment = ?", [SEGMENT])}


def test_segments_show_prints_json_and_csv_with_whole_phones_and_emails(looped: Path, cli: Callable[..., Ran]) -> None:
    expected = members(looped)
    shown = cli("segments", "show", SEGMENT, "--limit", "1000", "--json", "--warehouse", str(looped))
    assert shown.code == 0, shown.stderr
    document = json.loads(shown.stdout)
    assert document["total"] == len(expected) > 0
    assert {m["person_id"]: (m["phone_e164"], m["email"]) for m in document["members"]} == expected
    as_csv = cli("segments", "show", SEGMENT, "--limit", "1000", "--csv", "--warehouse", str(looped))
    assert as_csv.code == 0, as_csv.stderr
    lines = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert {r["person_id"]: (r["phone_e164"] or None, r["email"] or None) for r in lines} == expected


@pytest.mark.parametrize("file_format", ["csv", "parquet"])
def test_segments_export_writes_every_member(looped: Path, tmp_path: Path, file_format: str,
                                             cli: Callable[..., Ran]) -> None:
    out = tmp_path / f"members.{file_format}"
    done = cli("segments", "export", SEGMENT, "--format", file_format, "--out", str(out),
                   "--warehouse", str(looped))
    assert done.code == 0, done.stderr
    if file_format == "csv":
        written = [(r["person_id"], r["phone_e164"] or None, r["email"] or None)
                   for r in csv.DictReader(out.open(encoding="utf-8"))]
    else:
        table = pq.read_table(out).to_pylist()
        written = [(r["person_id"], r["phone_e164"], r["email"]) for r in table]
    assert {p: (phone, email) for p, phone, email in written} == members(looped)
    assert len(written) == len(members(looped))


def test_an_unknown_export_format_is_one_line(looped: Path, tmp_path: Path, cli: Callable[..., Ran]) -> None:
    done = cli("segments", "export", SEGMENT, "--format", "xlsx", "--out", str(tmp_path / "m"),
                   "--warehouse", str(looped))
    assert done.code == 2 and done.stderr.strip() == "error: --format xlsx: not one of csv, parquet"


def test_a_person_is_found_by_id_phone_or_email_with_records_segments_and_pushes(looped: Path) -> None:
    person_id, phone, email = rows(looped, "SELECT person_id, phone_e164, email FROM crm.people "
                                           "WHERE len(providers) >= 3 AND email IS NOT NULL ORDER BY 1 LIMIT 1")[0]
    spaced = f"{phone[:4]} {phone[4:7]} {phone[7:]}"  # as a person types it: read to E.164
    for identifier in (person_id, spaced, email.upper()):
        [found] = [p for p in find_people(looped, identifier) if p.person_id == person_id]
        assert found.person["email"] == email
    contacts = rows(looped, "SELECT provider, contact_id FROM crm.contacts WHERE person_id = ? ORDER BY 1, 2",
                    [person_id])
    assert [(c["provider"], c["contact_id"]) for c in found.contacts] == contacts and len(contacts) >= 3
    stays = rows(looped, "SELECT segment, entered_at FROM crm.segment_history WHERE person_id = ?", [person_id])
    assert sorted((s["segment"], s["entered_at"]) for s in found.segments) == sorted(stays)
    assert SEGMENT in {s["segment"] for s in found.segments}
    pushed = rows(looped, "SELECT provider, segment, operation, status FROM ops.push_log WHERE person_id = ?",
                  [person_id])
    assert sorted((p["provider"], p["segment"], p["operation"], p["status"]) for p in found.pushes) == sorted(pushed)
    assert len(pushed) >= 3


def test_person_on_the_command_line_and_nobody(looped: Path, cli: Callable[..., Ran]) -> None:
    (person_id,) = rows(looped, "SELECT min(person_id) FROM crm.segment_members")[0]
    done = cli("person", person_id, "--warehouse", str(looped))
    assert done.code == 0, done.stderr
    assert person_id in done.stdout and "pushes made for them" in done.stdout
    as_json = json.loads(cli("person", person_id, "--json", "--warehouse", str(looped)).stdout)
    assert [p["person_id"] for p in as_json["people"]] == [person_id]
    with pytest.raises(UserError, match="nobody in .* has the person_id, phone or email 'no-such-one'"):
        find_people(looped, "no-such-one")
