"""Configuration a user gets wrong: every command stops with one line on stderr naming what
is wrong and where, a non-zero exit, no traceback, and the warehouse exactly as it was (or
not created at all)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from crmsync.sandbox import credentials
from crmsync.sandbox.server import SandboxServer, free_port
from tests.reliability.bad_input_fixtures import (
    CliResult,
    files_under,
    point_at,
    run_cli,
    run_cli_process,
    small_sandbox,
    snapshot,
    without_configuration,
)
from crmsync.transforms.runner import DEFAULT_ROOT

__all__ = ["small_sandbox"]  # the module-scoped sandbox fixture


@pytest.fixture(scope="module")
def built(small_sandbox: SandboxServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse after one good sync of Chatman and one good transform: what a bad command
    must leave exactly as it is."""
    folder = tmp_path_factory.mktemp("built")
    with pytest.MonkeyPatch.context() as patch:
        point_at(patch, small_sandbox, folder / "pipelines")
        from crmsync.pipelines.sync import sync
        from crmsync.transforms.runner import run_transforms

        results = sync(["chatman"], folder / "w.duckdb")
        assert results["chatman"].status == "ok", results["chatman"].error
        assert run_transforms(folder / "w.duckdb").status == "ok"
    return folder / "w.duckdb"


@pytest.fixture()
def warehouse(built: Path, tmp_path: Path, small_sandbox: SandboxServer,
              monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the built warehouse, providers pointed at the sandbox, dlt folder in tmp."""
    point_at(monkeypatch, small_sandbox, tmp_path / "pipelines")
    copy = tmp_path / "w.duckdb"
    shutil.copy(built, copy)
    return copy


def assert_one_error(result: CliResult, *words: str) -> str:
    assert result.code != 0, result.stdout
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.error_lines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def test_missing_api_key_names_the_setting_and_loads_nothing(warehouse: Path, capsys, monkeypatch) -> None:
    before = snapshot(warehouse)
    monkeypatch.delenv("SOURCES__CHATMAN__API_KEY")
    result = run_cli(capsys, monkeypatch, "sync", "--provider", "chatman", "--warehouse", str(warehouse), "--json")
    assert_one_error(result, "chatman", "sources.chatman.api_key", "SOURCES__CHATMAN__API_KEY")
    assert result.code == 1
    assert snapshot(warehouse) == before


def test_misspelt_environment_key_is_refused_before_anything_runs(
        warehouse: Path, small_sandbox: SandboxServer, capsys, monkeypatch) -> None:
    before = snapshot(warehouse)
    httpx.delete(f"{small_sandbox.url}/_sandbox/stats").raise_for_status()
    monkeypatch.setenv("SOURCES__CHATMAN__PAGE_SIZ", "10")
    for command in (["sync"], ["transform"], ["push", "--dry-run"]):
        result = run_cli(capsys, monkeypatch, *command, "--warehouse", str(warehouse))
        line = assert_one_error(result, "sources.chatman.page_siz", "SOURCES__CHATMAN__PAGE_SIZ", "page_size")
        assert result.code == 2, line
    stats = httpx.get(f"{small_sandbox.url}/_sandbox/stats").json()
    assert not any(stats.get("requests", {}).values()), stats
    assert snapshot(warehouse) == before


@pytest.mark.parametrize("variable, words", [
    ("SOURCES__CHATMANN__API_KEY", ["unknown provider section sources.chatmann"]),
    ("FLOW__RETRYS", ["flow.retrys", "retries"]),
    ("PUSH__MAX_REMOVAL_SHAR", ["push.max_removal_shar", "max_removal_share"]),
])
def test_unknown_keys_in_other_sections_are_named(warehouse: Path, variable: str, words: list[str],
                                                   capsys, monkeypatch) -> None:
    monkeypatch.setenv(variable, "0.9")
    result = run_cli(capsys, monkeypatch, "transform", "--warehouse", str(warehouse))
    assert_one_error(result, variable, *words)


@pytest.mark.slow  # two processes that import everything: ~15 s
def test_misspelt_keys_in_the_project_toml_files_name_the_file_never_the_value(
        built: Path, tmp_path: Path, small_sandbox: SandboxServer) -> None:
    """dlt reads .dlt/config.toml and .dlt/secrets.toml of the folder crmsync runs in."""
    project = tmp_path / "project"
    (project / ".dlt").mkdir(parents=True)
    shutil.copy(built, project / "w.duckdb")
    before = snapshot(project / "w.duckdb")
    env = without_configuration()
    (project / ".dlt" / "config.toml").write_text('[sources.whautomate]\npage_sise = 50\n')
    result = run_cli_process("transform", "--warehouse", "w.duckdb", env=env, cwd=project)
    assert_one_error(result, "sources.whautomate.page_sise", "config.toml", "page_size")
    assert result.code == 2

    (project / ".dlt" / "config.toml").write_text("")
    (project / ".dlt" / "secrets.toml").write_text(
        f'[sources.chatrace]\naccess_tokn = "{credentials.CHATRACE_TOKEN}"\n')
    result = run_cli_process("sync", "--provider", "chatrace", "--warehouse", "w.duckdb", env=env, cwd=project)
    line = assert_one_error(result, "sources.chatrace.access_tokn", "secrets.toml", "access_token")
    assert credentials.CHATRACE_TOKEN not in result.stdout + result.stderr, line
    assert snapshot(project / "w.duckdb") == before


@pytest.mark.parametrize("command", [["sync", "--provider", "nope"], ["push", "--provider", "nope"]])
def test_unknown_provider(warehouse: Path, command: list[str], capsys, monkeypatch) -> None:
    before = snapshot(warehouse)
    result = run_cli(capsys, monkeypatch, *command, "--warehouse", str(warehouse))
    assert_one_error(result, "nope", "chatman")
    assert result.code == 2
    assert snapshot(warehouse) == before


@pytest.mark.parametrize("url", ["not a url", "ftp://files.example/v1", "/chatman/v1/public-apis"])
def test_base_url_that_is_not_a_url_fails_at_once(warehouse: Path, url: str, capsys, monkeypatch) -> None:
    before = snapshot(warehouse)
    monkeypatch.setenv("SOURCES__CHATMAN__BASE_URL", url)
    started = time.monotonic()
    result = run_cli(capsys, monkeypatch, "sync", "--provider", "chatman", "--warehouse", str(warehouse), "--json")
    assert_one_error(result, "chatman", "sources.chatman.base_url", "SOURCES__CHATMAN__BASE_URL")
    assert time.monotonic() - started < 10, "retried what no retry can fix"
    assert snapshot(warehouse) == before


def test_negative_request_rate_fails_at_once(warehouse: Path, capsys, monkeypatch) -> None:
    before = snapshot(warehouse)
    monkeypatch.setenv("SOURCES__CHATMAN__REQUESTS_PER_SECOND", "-5")
    result = run_cli(capsys, monkeypatch, "sync", "--provider", "chatman", "--warehouse", str(warehouse), "--json")
    assert_one_error(result, "chatman", "sources.chatman.requests_per_second", "0 (no pacing)")
    assert snapshot(warehouse) == before


@pytest.mark.parametrize("key, value, words", [
    ("ORDER_STATUSES", '{"paid": "7"}', ["table of integer status codes to names"]),
    ("ORDER_STATUSES", '{"7": ""}', ["table of integer status codes to names"]),
    ("FINAL_ORDER_STATUSES", '["delivered"]', ["list of integer status codes"]),
])
def test_order_statuses_that_name_no_code_fail_at_once(warehouse: Path, key: str, value: str, words: list[str],
                                                        capsys, monkeypatch) -> None:
    before = snapshot(warehouse)
    monkeypatch.setenv(f"SOURCES__CHATRACE__{key}", value)
    result = run_cli(capsys, monkeypatch, "sync", "--provider", "chatrace", "--warehouse", str(warehouse), "--json")
    assert_one_error(result, "chatrace", f"sources.chatrace.{key.lower()}", *words)
    assert snapshot(warehouse) == before


def test_unreachable_base_url_fails_that_provider_and_keeps_the_warehouse(
        warehouse: Path, quick_retries, capsys, monkeypatch) -> None:
    before = snapshot(warehouse)
    monkeypatch.setenv("SOURCES__CHATMAN__BASE_URL", f"http://127.0.0.1:{free_port()}/chatman/v1/public-apis")
    result = run_cli(capsys, monkeypatch, "sync", "--provider", "chatman", "--warehouse", str(warehouse), "--json")
    assert_one_error(result, "chatman", "ConnectError", "check sources.chatman.base_url")
    assert result.code == 1
    assert snapshot(warehouse) == before


@pytest.fixture()
def fresh(tmp_path: Path, small_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    point_at(monkeypatch, small_sandbox, tmp_path / "pipelines")
    monkeypatch.delenv("CRMSYNC_PIPELINES_DIR")  # dlt's folder goes beside the warehouse
    return tmp_path


def unwritable_paths(root: Path) -> Iterator[tuple[str, Path]]:
    (root / "a-folder.duckdb").mkdir(parents=True)
    yield "a folder", root / "a-folder.duckdb"
    (root / "a-file").write_text("")
    yield "under a file", root / "a-file" / "w.duckdb"
    yield "in a missing folder", root / "missing" / "w.duckdb"


@pytest.mark.parametrize("command", ["sync", "transform", "push", "run"])
def test_warehouse_path_that_cannot_be_written(fresh: Path, command: str, capsys, monkeypatch) -> None:
    for what, path in unwritable_paths(fresh / command):
        before = files_under(fresh)
        result = run_cli(capsys, monkeypatch, command, "--warehouse", str(path))
        assert_one_error(result, "--warehouse", str(path))
        assert files_under(fresh) == before, f"{command} {what} wrote something"
        assert not (path.parent / f".{path.name}.pipelines").exists()


def test_warehouse_in_a_read_only_folder(fresh: Path, capsys, monkeypatch) -> None:
    import os

    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    folder = fresh / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        result = run_cli(capsys, monkeypatch, "sync", "--provider", "chatman", "--warehouse", str(folder / "w.duckdb"))
        assert_one_error(result, "--warehouse", "not writable")
        assert files_under(folder) == set()
    finally:
        folder.chmod(0o755)


@pytest.fixture()
def transforms(tmp_path: Path) -> Path:
    """A copy of the project's SQL models and segments that a test may break."""
    copy = tmp_path / "transforms"
    shutil.copytree(DEFAULT_ROOT, copy, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return copy


@pytest.mark.parametrize("sql, code, words", [
    ("SELECT person_id FROM crm.people WHERE (\n", 2, ["does not parse"]),
    ("SELECT phone_e164, email FROM crm.people\n", 2, ["no person_id column", "phone_e164"]),
    ("SELECT person_id FROM crm.people WHERE no_such_column > 1\n", 1, ["no_such_column"]),
], ids=["does-not-parse", "no-person-id", "fails-in-duckdb"])
def test_bad_segment_file_is_named_and_the_previous_build_stays(
        warehouse: Path, transforms: Path, sql: str, code: int, words: list[str], capsys, monkeypatch) -> None:
    before = snapshot(warehouse)
    bad = transforms / "segments" / "zz_bad.sql"
    bad.write_text("-- description: a segment a user got wrong\n" + sql)
    monkeypatch.setenv("CRMSYNC_TRANSFORMS", str(transforms))  # as --transforms DIR would
    result = run_cli(capsys, monkeypatch, "transform", "--warehouse", str(warehouse))
    assert_one_error(result, str(bad), *words)
    assert result.code == code
    assert snapshot(warehouse) == before


def test_the_same_folder_builds_once_the_segment_is_fixed(warehouse: Path, transforms: Path, capsys,
                                                          monkeypatch) -> None:
    """What the bad-segment tests broke is the file alone: without it the copy builds."""
    result = run_cli(capsys, monkeypatch, "transform", "--warehouse", str(warehouse), "--transforms", str(transforms))
    assert result.code == 0, result.stderr
