"""A misspelt key in the project's `.dlt/config.toml` or `.dlt/secrets.toml` stops a command
before anything runs, naming the key and the file, never the value. The fast counterpart of
test_config_errors' slow test (no warehouse, no sandbox: the check comes first)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.reliability.bad_input_fixtures import run_cli_process, without_configuration

SECRET = "tok-3b9e-never-printed"


@pytest.mark.parametrize("file, text, words", [
    ("config.toml", "[sources.whautomate]\npage_sise = 50\n",
     ["sources.whautomate.page_sise", "config.toml", "did you mean page_size?"]),
    ("secrets.toml", f'[sources.chatrace]\naccess_tokn = "{SECRET}"\n',
     ["sources.chatrace.access_tokn", "secrets.toml", "did you mean access_token?"]),
    ("config.toml", "[flow]\nretrys = 2\n", ["flow.retrys", "config.toml", "did you mean retries?"]),
])
def test_a_misspelt_key_in_the_project_toml_is_refused_first(tmp_path: Path, file: str, text: str,
                                                              words: list[str]) -> None:
    """dlt reads .dlt/ of the folder crmsync runs in: the command runs in its own process there."""
    (tmp_path / ".dlt").mkdir()
    (tmp_path / ".dlt" / file).write_text(text)
    result = run_cli_process("transform", "--warehouse", "w.duckdb", env=without_configuration(), cwd=tmp_path,
                             timeout=60)
    lines = result.error_lines()
    assert result.code == 2 and len(lines) == 1 and lines[0].startswith("error: unknown setting "), result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    assert SECRET not in result.stdout + result.stderr
    assert not (tmp_path / "w.duckdb").exists()


def test_every_setting_the_shipped_config_toml_documents_is_a_known_key(tmp_path: Path) -> None:
    """.dlt/config.toml lists every key commented out: with all of them set, the key check
    passes (a documented key the check does not know would stop every command)."""
    shipped = (Path(__file__).resolve().parents[2] / ".dlt" / "config.toml").read_text().splitlines()
    setting = re.compile(r"#\s?(\[[\w.]+\](?:\s+#.*)?|\w+ = .*)$")
    lines = [match.group(1) if (match := setting.match(line)) else line for line in shipped]
    assert sum(line != original for line, original in zip(lines, shipped)) > 20  # they were found
    (tmp_path / ".dlt").mkdir()
    (tmp_path / ".dlt" / "config.toml").write_text("\n".join(lines) + "\n")
    result = run_cli_process("transform", "--warehouse", "w.duckdb", env=without_configuration(), cwd=tmp_path,
                             timeout=60)
    assert "unknown setting" not in result.stderr and "unknown provider" not in result.stderr, result.stderr
    assert "no warehouse at w.duckdb" in result.stderr  # past the check, it stopped for the missing file
