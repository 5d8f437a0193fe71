"""The command line: every command has help, --sandbox takes an optional URL, errors are one
line, --json prints only JSON, `sandbox serve` serves until interrupted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from crmsync.sandbox.link import START, with_optional_values
from crmsync.sandbox.server import SandboxServer, free_port

COMMANDS = ["sync", "transform", "push", "run", "serve", "status", "segments", "bench",
            "sandbox", "sandbox serve", "segments list", "segments show", "segments export", "person", "docs"]


def crmsync(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crmsync", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, cwd=cwd, timeout=timeout)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    result = crmsync(*command.split(), "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout


def test_bare_sandbox_gets_the_start_value_and_a_url_stays() -> None:
    assert with_optional_values(["sync", "--sandbox"]) == ["sync", "--sandbox", START]
    assert with_optional_values(["sync", "--sandbox", "--json"]) == ["sync", "--sandbox", START, "--json"]
    assert with_optional_values(["sync", "--sandbox", "http://h:1"]) == ["sync", "--sandbox", "http://h:1"]


def test_sync_json_against_a_running_sandbox_prints_only_json(tmp_path: Path, sandbox: SandboxServer) -> None:
    result = crmsync("sync", "--provider", "chatman", "--sandbox", sandbox.url,
                     "--warehouse", str(tmp_path / "w.duckdb"), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "sync: started" not in result.stderr  # no progress lines with --json
    document = json.loads(result.stdout)
    chatman = document["providers"]["chatman"]
    assert chatman["status"] == "ok" and chatman["error"] is None
    assert chatman["rows"]["contacts"] > 0


def test_missing_setting_is_one_line_and_nonzero(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOURCES__")}
    result = subprocess.run([sys.executable, "-m", "crmsync", "sync", "--provider", "chatman",
                             "--warehouse", str(tmp_path / "w.duckdb"), "--json"],
                            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert result.returncode == 1
    error = json.loads(result.stdout)["providers"]["chatman"]["error"]
    assert error.startswith("chatman: missing setting sources.chatman.base_url")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["sync", "push", "run"])
def test_unknown_provider_is_one_line_exit_2(tmp_path: Path, command: str) -> None:
    """`run` refuses it before any flow (or Prefect server) starts."""
    result = crmsync(command, "--provider", "hubspot", "--warehouse", str(tmp_path / "w.duckdb"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: unknown provider 'hubspot'; known: chatman, whautomate, waabot, chatrace, dmchamp"]


def test_sandbox_serve_serves_until_interrupted() -> None:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "crmsync", "sandbox", "serve", "--port", str(port),
                                "--contacts", "50", "--seed", "3"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                truth = httpx.get(f"http://127.0.0.1:{port}/_sandbox/truth", timeout=2).json()
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "sandbox did not start"
                time.sleep(0.2)
        assert truth["people"]
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=15)
    assert process.returncode is not None


def test_sandbox_env_lines_can_be_evaluated_by_a_shell() -> None:
    url = "http://127.0.0.1:8901"
    lines = crmsync("sandbox", "env", url).stdout
    shown = subprocess.run(["bash", "-c", f'{lines}\necho "$SOURCES__CHATMAN__CAMPAIGN_IDS|$SOURCES__WAABOT__BASE_URL"'],
                           capture_output=True, text=True, timeout=30).stdout.strip()
    campaigns, waabot = shown.split("|")
    assert json.loads(campaigns) and waabot == f"{url}/waabot/api/v1"
