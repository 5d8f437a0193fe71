"""Model and segment files cannot read the machine: a file or the environment read from their
SQL fails the transform, one line naming the file, and nothing of it reaches the warehouse
or the output. The warehouse itself still opens and phone_e164 still works."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from crmsync.kernel.warehouse import open_warehouse
from crmsync.transforms.runner import run_transforms
from crmsync.transforms.segments import segment_members

from tests.reliability.bad_input_fixtures import run_cli, without_configuration
from tests.transforms.model_tree import load_raw, query, write_tree

SECRET = "canary-7f3a9c-not-for-the-warehouse"
PASSWD = "root:x:0:0"  # the first line of /etc/passwd
TREE = {
    "staging/s/people.sql": "-- materialized: table\n"
                            "SELECT id AS person_id, phone_e164(phone, '234') AS phone FROM raw_s.people\n",
    "segments/everyone.sql": '-- push: waabot group "Everyone"\nSELECT person_id FROM staging.s_people\n',
}
# Each way in, as the SQL that would make what it reads a person_id.
READS = {
    "read_csv": "SELECT column0 AS person_id FROM read_csv('/etc/passwd', header = false, sep = ':')",
    "read_text": "SELECT content AS person_id FROM read_text('/proc/self/environ')",
    "getenv": "SELECT getenv('SOURCES__CHATMAN__API_KEY') AS person_id",
}


@pytest.fixture()
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    load_raw(path, "raw_s.people", "id VARCHAR, phone VARCHAR", [("p1", "0803 123 4567"), ("p2", None)])
    return path


def everything_in(warehouse: Path) -> str:
    """Every value of every table, as one text to search."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()
        return "\n".join(str(con.execute(f'SELECT * FROM "{s}"."{t}"').fetchall()) for s, t in tables)


def test_the_tree_builds_confined_with_phone_e164(tmp_path: Path, warehouse: Path) -> None:
    result = run_transforms(warehouse, write_tree(tmp_path / "transforms", TREE))
    assert result.status == "ok", result.error
    assert query(warehouse, "SELECT * FROM staging.s_people ORDER BY 1") == [("p1", "+2348031234567"), ("p2", None)]
    assert query(warehouse, "SELECT person_id FROM crm.segment_members ORDER BY 1") == [("p1",), ("p2",)]


@pytest.mark.parametrize("where", ["segments/leak.sql", "marts/leak.sql"])
@pytest.mark.parametrize("how", list(READS))
def test_sql_reading_a_file_or_the_environment_fails_naming_the_file(
        tmp_path: Path, warehouse: Path, where: str, how: str, capsys, monkeypatch) -> None:
    monkeypatch.setenv("SOURCES__CHATMAN__API_KEY", SECRET)
    header = '-- push: waabot group "Leak"\n' if where.startswith("segments") else "-- materialized: table\n"
    root = write_tree(tmp_path / "transforms", {**TREE, where: header + READS[how] + "\n"})
    result = run_cli(capsys, monkeypatch, "transform", "--warehouse", str(warehouse), "--transforms", str(root))
    lines = result.error_lines()
    assert result.code != 0 and len(lines) == 1, result.stderr
    assert lines[0].startswith("error: transform failed") and str(root / where) in lines[0], lines[0]
    assert "Traceback" not in result.stderr
    for leaked in (SECRET, PASSWD):
        assert leaked not in result.stdout + result.stderr
        assert leaked not in everything_in(warehouse)


def test_a_confined_connection_cannot_switch_it_back(warehouse: Path) -> None:
    with open_warehouse(warehouse, read_only=False, confined=True) as con:
        for statement in ("SET enable_external_access = true", "RESET enable_external_access",
                          "SET lock_configuration = false"):
            with pytest.raises(duckdb.InvalidInputException, match="configuration has been locked"):
                con.execute(statement)
        with pytest.raises(duckdb.PermissionException):
            con.execute("SELECT content FROM read_text('/etc/passwd')")


def test_environ_read_by_a_segment_of_the_crmsync_command_stays_out(tmp_path: Path, warehouse: Path) -> None:
    """The incident as it happened: `crmsync transform` in its own process, a provider's API
    key in its environment (so in /proc/self/environ), a segment reading that file."""
    root = write_tree(tmp_path / "transforms", {**TREE, "segments/leak.sql": '-- push: waabot group "Leak"\n'
                                                + READS["read_text"] + "\n"})
    env = {**without_configuration(), "SOURCES__CHATMAN__API_KEY": SECRET}
    done = subprocess.run([sys.executable, "-m", "crmsync", "transform", "--warehouse", str(warehouse),
                           "--transforms", str(root)], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=120)
    assert done.returncode == 1, done.stderr
    assert [line for line in done.stderr.splitlines() if line.strip()] == [
        f"error: transform failed, nothing of it was kept: {root / 'segments/leak.sql'}: Permission Error: "
        "Cannot access file \"/proc/self/environ\" - file system operations are disabled by configuration"]
    assert SECRET not in done.stdout and SECRET not in everything_in(warehouse)


def test_segments_show_reads_the_warehouse_confined(tmp_path: Path, warehouse: Path) -> None:
    """A view reading a file that got into the warehouse some other way (by hand, an older
    crmsync) is not read out by `segments show`."""
    root = write_tree(tmp_path / "transforms", TREE)
    assert run_transforms(warehouse, root).status == "ok"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE VIEW crm.people AS SELECT person_id, content AS full_name "
                    "FROM crm.segment_members, read_text('/etc/passwd')")
    with pytest.raises(duckdb.PermissionException, match="file system operations are disabled"):
        segment_members(warehouse, root, "everyone", 5)


def test_a_confined_open_while_this_process_holds_the_file_is_refused(tmp_path: Path, warehouse: Path) -> None:
    """DuckDB keeps one configuration per open database in a process: the transform cannot
    quietly join an unconfined one."""
    root = write_tree(tmp_path / "transforms", TREE)
    with duckdb.connect(str(warehouse)):
        with pytest.raises(duckdb.ConnectionException, match="different configuration"):
            run_transforms(warehouse, root)
    assert run_transforms(warehouse, root).status == "ok"  # once that one is closed
