"""Records created, updated and deleted while a scan's pages are read: the sync ends without
a key loaded twice, and one more run ends equal to the truth.

Three tables are checked for what the provider can give (README, "Cannot give"), not counted:
Chatrace orders cannot be listed, and an order superseded by a newer one before crmsync first
read the contact's cart is out of reach: every contact's current order (its cart) is loaded.
Chatrace contacts cannot be listed, and one whose opportunities and whose person's other
accounts churn deleted before crmsync read them is nobody crmsync can reach: every contact with
an opportunity or of a person live in a provider that brings people in is loaded.
DM Champ cannot be listed, and a person churn deleted from every other provider is nobody
crmsync can look up: every DM Champ contact of a person live elsewhere is loaded.

Churn draws from one generator provider after provider, so the World's order of emulators is
part of the draw: the slow variant draws in registry order (once the case of a Chatrace contact
out of reach, which counting its contacts took for one lost)."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest

from crmsync.sandbox.link import sandbox_environment
from crmsync.pipelines.sync import sync
from crmsync.sandbox.server import SandboxServer
from crmsync.sandbox.world import World
from crmsync.sources import registry
from tests.reliability.conftest import (EVERY_RUN, PEOPLE, assert_raw_equals_truth, no_faults, requests_seen,
                                        reset_stats, rows, set_faults, synced, truth)
from tests.sources.conftest import churn

PAGED = ["chatman", "whautomate", "chatrace"]  # the providers read in pages
# Requests into the sync of the 60-people sandbox: Chatman's pages (about 8 requests), then
# Whautomate's (about 40), then Chatrace's (about 200).
CHURN_AFTER = (3, 15, 40, 90, 160)


def churn_during(sandbox: SandboxServer, stop: threading.Event) -> threading.Thread:
    """A thread that changes records each time the sync has made CHURN_AFTER[i] requests."""

    def run() -> None:
        for seed, after in enumerate(CHURN_AFTER, start=1):
            while requests_seen(sandbox) < after:
                if stop.wait(0.01):
                    return
            churn(sandbox, update=0.05, create=0.05, delete=0.02, seed=seed)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def sync_ok(providers: list[str] | None, warehouse: Path) -> None:
    if providers is None:
        synced(warehouse)
        return
    results = sync(providers, warehouse)
    assert {p: r.error for p, r in results.items()} == dict.fromkeys(providers)


def assert_carts_loaded(sandbox: SandboxServer, warehouse: Path) -> None:
    env = sandbox_environment(sandbox.url)
    contacts = [c for (c,) in rows(warehouse, "SELECT id FROM raw_chatrace.contacts WHERE deleted_at IS NULL")]
    with httpx.Client(base_url=env["SOURCES__CHATRACE__BASE_URL"], timeout=10,
                      headers={"X-ACCESS-TOKEN": env["SOURCES__CHATRACE__ACCESS_TOKEN"]}) as api:
        carts = {str(api.get(f"/contacts/{c}/cart").raise_for_status().json()["order_id"]) for c in contacts}
    loaded = {o for (o,) in rows(warehouse, "SELECT order_id FROM raw_chatrace.orders WHERE deleted_at IS NULL")}
    assert carts - {"None"} <= loaded, f"current orders not loaded: {carts - {'None'} - loaded}"
    assert len(loaded) <= truth(sandbox)["counts"]["chatrace"]["orders"]


def assert_reachable_chatrace_loaded(sandbox: SandboxServer, warehouse: Path, providers: list[str] | None) -> None:
    synced_ = set(providers or registry.names())
    bringing = {p.name for p in registry.providers() if p.known_people is not None and p.name in synced_} - {"chatrace"}
    accounts = [p["accounts"] for p in truth(sandbox)["people"] if "chatrace" in p["accounts"]]
    reachable = {a["chatrace"] for a in accounts if bringing & set(a)}
    reachable |= {str(c) for (c,) in rows(
        warehouse, "SELECT contact_id FROM raw_chatrace.opportunities WHERE deleted_at IS NULL")}
    loaded = {str(c) for (c,) in rows(warehouse, "SELECT id FROM raw_chatrace.contacts WHERE deleted_at IS NULL")}
    assert reachable <= loaded, f"Chatrace contacts crmsync can reach not loaded: {reachable - loaded}"
    assert loaded <= {a["chatrace"] for a in accounts}, "Chatrace contacts loaded that Chatrace no longer has"


def assert_findable_dmchamp_loaded(sandbox: SandboxServer, warehouse: Path) -> None:
    accounts = [p["accounts"] for p in truth(sandbox)["people"] if "dmchamp" in p["accounts"]]
    findable = {a["dmchamp"] for a in accounts if len(a) > 1}
    loaded = {c for (c,) in rows(warehouse, "SELECT contact_id FROM raw_dmchamp.contacts WHERE deleted_at IS NULL")}
    assert findable <= loaded, f"DM Champ contacts of people live elsewhere not loaded: {findable - loaded}"
    assert loaded <= {a["dmchamp"] for a in accounts}, "DM Champ contacts loaded that DM Champ no longer has"


def changes_while_pages_are_read(providers: list[str] | None, sandbox: SandboxServer, warehouse: Path) -> None:
    set_faults(sandbox, latency_ms=20)  # pages slow enough for the changes to land between them
    reset_stats(sandbox)
    stop = threading.Event()
    changer = churn_during(sandbox, stop)
    try:
        sync_ok(providers, warehouse)
    finally:
        stop.set()
        changer.join()
    assert requests_seen(sandbox) > CHURN_AFTER[-1], "the scan ended before every change was made"
    no_faults(sandbox)
    sync_ok(providers, warehouse)
    assert_raw_equals_truth(sandbox, warehouse, providers,
                            uncounted=("chatrace.orders", "chatrace.contacts", "dmchamp.contacts"))
    assert_carts_loaded(sandbox, warehouse)
    assert_reachable_chatrace_loaded(sandbox, warehouse, providers)
    if providers is None:
        assert_findable_dmchamp_loaded(sandbox, warehouse)


@pytest.mark.parametrize("providers", [pytest.param(PAGED, id="paged"),
                                       pytest.param(None, id="all", marks=pytest.mark.slow)])
def test_records_changed_while_pages_are_read(providers: list[str] | None, sandbox: SandboxServer,
                                              warehouse: Path) -> None:
    changes_while_pages_are_read(providers, sandbox, warehouse)


@pytest.mark.slow
def test_records_changed_while_pages_are_read_drawn_in_registry_order(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    world = World(seed=7, contacts=PEOPLE)  # the reliability sandbox, its emulators reordered
    world.providers = {name: world.providers[name] for name in registry.names() if name in world.providers}
    with SandboxServer(world) as sandbox:
        for key, value in {**EVERY_RUN, **sandbox_environment(sandbox.url)}.items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("CRMSYNC_PIPELINES_DIR", str(tmp_path / "pipelines"))
        changes_while_pages_are_read(PAGED, sandbox, tmp_path / "warehouse.duckdb")
