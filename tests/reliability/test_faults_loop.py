"""The whole loop under each fault the sandbox can inject: the sync ends equal to the truth
(every record once), the push leaves every target holding exactly its segment, and a
provider side effect answered with an error is not made a second time by the retry."""

from __future__ import annotations

from pathlib import Path

import pytest
from crmsync.kernel.push import PushTarget
from crmsync.pipelines.sync import sync_provider
from crmsync.sandbox.faults import Faults
from crmsync.sandbox.link import sandbox_environment
from crmsync.sandbox.server import SandboxServer
from crmsync.sandbox.world import World
from crmsync.sources.common.config import provider_settings
from crmsync.sources.common.run import SyncRun
from crmsync.sources.waabot.push import push_client as waabot_push_client

from tests.push.test_push_sandbox import TARGETS
from tests.reliability.conftest import (
    PEOPLE,
    assert_pushed_once,
    assert_raw_equals_truth,
    injected,
    no_faults,
    pushed,
    reset_stats,
    set_faults,
    synced,
    transformed,
    waabot_api,
    waabot_groups,
)

# Fault settings -> the kind /_sandbox/stats counts them under.
KINDS = {
    "429 storm with Retry-After": ({"rate_limit": 40}, "rate_limit"),
    "10% 5xx": ({"error_rate": 0.1}, "error"),
    "responses past the timeout": ({"slow_rate": 0.03, "slow_ms": 1500}, "slow"),
    "connections dropped mid-body": ({"drop_rate": 0.1}, "drop"),
    "truncated JSON pages": ({"truncate_rate": 0.1}, "truncate"),
    "5xx after the write was made": ({"commit_error_rate": 0.1}, "commit_error"),
}
EVERY_FAULT = {"rate_limit": 60, "error_rate": 0.03, "slow_rate": 0.01, "slow_ms": 1500, "drop_rate": 0.03,
               "truncate_rate": 0.03, "commit_error_rate": 0.05}


def loop_under(sandbox: SandboxServer, warehouse: Path, faults: dict[str, object]) -> None:
    """Sync, transform and push with `faults` on; check each step against the truth. The
    Waabot groups are made first, without faults (the group create under faults has its own
    test below)."""
    make_waabot_groups(sandbox)
    set_faults(sandbox, **faults)
    reset_stats(sandbox)
    synced(warehouse)
    assert_raw_equals_truth(sandbox, warehouse)
    transformed(warehouse)
    pushed(warehouse)
    no_faults(sandbox)  # the check reads Waabot's groups through its API
    assert_pushed_once(sandbox, warehouse)


def make_waabot_groups(sandbox: SandboxServer) -> None:
    with waabot_api(sandbox) as (api, instance):
        for _, provider, name in TARGETS:
            if provider == "waabot":
                api.post("/contact_groups", json={"title": name, **instance}).raise_for_status()


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_loop_ends_equal_under(kind: str, sandbox: SandboxServer, warehouse: Path, quick_retries: object) -> None:
    faults, counted = KINDS[kind]
    loop_under(sandbox, warehouse, faults)
    assert injected(sandbox)[counted] > 0, f"no {counted} fault was injected"


def test_loop_ends_equal_under_every_fault_at_once(sandbox: SandboxServer, warehouse: Path,
                                                   quick_retries: object) -> None:
    loop_under(sandbox, warehouse, EVERY_FAULT)
    seen = injected(sandbox)
    assert all(seen[kind] > 0 for kind in ("rate_limit", "error", "slow", "drop", "truncate", "commit_error")), seen


def test_a_truncated_waabot_listing_is_read_again(warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Seed 1: the first GET is cut short, the next ones are whole (the generator's draws).
    with SandboxServer(World(seed=7, contacts=PEOPLE), Faults(truncate_rate=0.5, seed=1)) as server:
        for key, value in sandbox_environment(server.url).items():
            monkeypatch.setenv(key, value)
        result = sync_provider("waabot", warehouse)
        assert injected(server)["truncate"] > 0
    assert result.error is None


def test_a_waabot_group_create_answered_5xx_after_commit_is_not_made_twice(
        sandbox: SandboxServer, warehouse: Path, quick_retries: object) -> None:
    target = PushTarget("waabot", "group", "Made once")
    run = SyncRun(warehouse=warehouse)
    client = waabot_push_client(provider_settings("waabot"), run)
    set_faults(sandbox, commit_error_rate=1.0)  # every write happens, then is answered 5xx
    made = client.resolve_target(target, create=True)
    no_faults(sandbox)
    again = client.resolve_target(target, create=True)
    run.close()
    assert waabot_groups(sandbox)[target.name] == 1
    assert made == again
