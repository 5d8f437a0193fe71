"""No credential in what crmsync shows when a provider echoes the request in an error body:
every provider's server answers 400 (then 500) with the full URL and the request headers,
DM Champ (its key in the query string) to every look-up of known people. None of the
credentials, nor Waabot's session tokens, appears in `crmsync sync --json`'s output, any
ProviderResult error, the warehouse or dlt's files."""

from __future__ import annotations

import functools
import json
import shutil
from pathlib import Path

import pytest
from starlette.requests import Request
from starlette.responses import Response

from crmsync.sources.common import http
from tests.hostile import json_response, serving
from tests.reliability.bad_input_fixtures import clear_configuration, run_cli
from tests.reliability.test_secrets import leaks, text_of_files, text_of_warehouse
from tests.sources.conftest import TEMPLATE_WAREHOUSE, sync_others_once

SECRETS = {
    "DMCHAMP__API_KEY": "dmc-Key-9f2e41",
    "WHAUTOMATE__API_KEY": "wha-Key-51c7d8",
    "CHATRACE__ACCESS_TOKEN": "chr-Token-0be6a3",
    "WAABOT__EMAIL": "someone@example.com",
    "WAABOT__PASSWORD": "wab-Password-7c1d",
    "WAABOT__SESSION_ID": "wab-Session-24fa",
    "WAABOT__ACCESS_TOKEN": "wab-Instance-8e03",
}
SESSION_TOKENS = {"accessToken": "wab-Access-66b1c2", "refreshToken": "wab-Refresh-d42a90"}
PROVIDERS = ("dmchamp", "whautomate", "chatrace", "waabot")
HTTPX_HEADERS = {"host", "accept", "accept-encoding", "connection", "user-agent", "content-length", "content-type"}


@pytest.fixture(scope="module")
def known_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Chatman synced from the sandbox once: the people DM Champ looks up."""
    return sync_others_once(tmp_path_factory.mktemp("known"), ["chatman"])


def echo(status: int):
    """Waabot's login works (so its instance credentials are sent); everything else answers
    `status` with the headers it got (httpx's own first left out, so that the credentials
    come within the 200 characters an error message keeps) and the full URL."""

    def handler(request: Request) -> Response:
        if request.url.path.endswith("/sessions"):
            return json_response(json.dumps({"status": True, "data": SESSION_TOKENS}).encode())
        headers = {k: v for k, v in request.headers.items() if k not in HTTPX_HEADERS}
        return json_response(json.dumps({"headers": headers, "url": str(request.url)}).encode(), status)

    return handler


@pytest.mark.parametrize("status", [400, 500])
def test_echoed_credentials_stay_out_of_output_results_warehouse_and_files(
        status: int, known_template: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(http, "RetryPolicy", functools.partial(http.RetryPolicy, backoff_s=0.001, attempts=2))
    clear_configuration(monkeypatch)
    shutil.copy(known_template / TEMPLATE_WAREHOUSE, tmp_path / "w.duckdb")
    shutil.copytree(known_template / "pipelines", tmp_path / "pipelines")
    monkeypatch.setenv("CRMSYNC_PIPELINES_DIR", str(tmp_path / "pipelines"))
    with serving(echo(status)) as url:
        for name, value in SECRETS.items():
            monkeypatch.setenv(f"SOURCES__{name}", value)
        for provider in PROVIDERS:
            monkeypatch.setenv(f"SOURCES__{provider.upper()}__BASE_URL", f"{url}/{provider}")
            monkeypatch.setenv(f"SOURCES__{provider.upper()}__REQUESTS_PER_SECOND", "0")
        shown = run_cli(capsys, monkeypatch, "sync", "--warehouse", str(tmp_path / "w.duckdb"), "--json",
                        *(arg for provider in PROVIDERS for arg in ("--provider", provider)))

    synced = json.loads(shown.stdout)["providers"]
    errors = {provider: synced[provider]["error"] for provider in PROVIDERS}
    assert all(synced[p]["status"] == "failed" for p in PROVIDERS), errors
    assert all(f" {status}" in error for error in errors.values()), errors  # each met the echo
    secrets = [value for value in SECRETS.values() if "@" not in value] + list(SESSION_TOKENS.values())
    found = (leaks(secrets, iter([("stdout", shown.stdout), ("stderr", shown.stderr)]))
             + leaks(secrets, iter(errors.items()))
             + leaks(secrets, text_of_warehouse(tmp_path / "w.duckdb"))
             + leaks(secrets, text_of_files(tmp_path / "pipelines")))
    assert found == []
