"""A provider from another installed package: found through its entry point, it syncs,
transforms and pushes with no file of crmsync edited; and the registry's own rules."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from crmsync.kernel.environment import temporary_environment
from crmsync.kernel.errors import UserError
from crmsync.pipelines.push import push
from crmsync.pipelines.sync import sync
from crmsync.sandbox.link import sandbox_environment
from crmsync.sandbox.server import SandboxServer
from crmsync.sandbox.world import World
from crmsync.sources import registry
from crmsync.transforms.runner import DEFAULT_ROOT, run_transforms

TOY = Path(__file__).parent / "toy_provider" / "crmsync_toy"
SEGMENT = """-- description: People the toy CRM and Chatman both hold
-- push: toy tag "in both"
SELECT person_id FROM crm.people WHERE list_contains(providers, 'toy') AND list_contains(providers, 'chatman')
"""


def install(site: Path, entry_points: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """What `pip install` leaves for importlib.metadata: the package and its dist-info."""
    shutil.copytree(TOY, site / "crmsync_toy")
    dist = site / "crmsync_toy-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: crmsync-toy\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(entry_points)
    monkeypatch.syspath_prepend(str(site))


@pytest.fixture()
def toy_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    install(tmp_path / "site", "[crmsync.providers]\ntoy = crmsync_toy:PROVIDER\n", monkeypatch)
    registry.reload()
    yield
    monkeypatch.undo()
    for name in [m for m in sys.modules if m.split(".")[0] == "crmsync_toy"]:
        del sys.modules[name]
    registry.reload()


def test_a_provider_from_another_package_syncs_transforms_and_pushes(toy_installed: None, tmp_path: Path) -> None:
    assert registry.names()[-1] == "toy"  # after the built-in ones
    project = tmp_path / "project"
    shutil.copytree(DEFAULT_ROOT, project, ignore=shutil.ignore_patterns("__pycache__"))
    (project / "segments" / "toy_and_chatman.sql").write_text(SEGMENT)
    warehouse = tmp_path / "warehouse.duckdb"
    with SandboxServer(World(seed=7, contacts=300)) as server, \
            temporary_environment(sandbox_environment(server.url)):
        synced = sync(["chatman", "toy"], warehouse)
        assert {p: r.status for p, r in synced.items()} == {"chatman": "ok", "toy": "ok"}, synced
        built = run_transforms(warehouse, project)
        assert built.status == "ok", built.error
        pushed = push(warehouse, providers=["toy"], transforms_root=project)
        assert pushed.status == "ok"
        truth = server.world.truth()
    both = {p["accounts"]["toy"] for p in truth["people"] if {"toy", "chatman"} <= set(p["accounts"])}
    assert both and set(truth["memberships"]["toy"]["in both"]) == both
    assert pushed.segments["toy_and_chatman"]["toy"].added == len(both)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        toy_contacts = con.execute("SELECT count(*) FROM crm.contacts WHERE provider = 'toy'").fetchone()[0]
    assert toy_contacts == truth["counts"]["toy"]["contacts"]


def test_an_entry_point_that_is_not_a_provider_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install(tmp_path / "site", "[crmsync.providers]\nbroken = crmsync_toy:SETTINGS\n", monkeypatch)
    try:
        with pytest.raises(UserError, match="entry point broken = crmsync_toy:SETTINGS is not a crmsync Provider"):
            registry.reload()
    finally:
        monkeypatch.undo()
        registry.reload()


def test_look_up_providers_sync_alone_after_those_they_follow() -> None:
    assert registry.sync_waves(list(registry.names())) == [
        ["chatman", "whautomate", "waabot"], ["chatrace"], ["dmchamp"]]
    assert registry.sync_waves(["dmchamp", "chatrace"]) == [["chatrace"], ["dmchamp"]]
    with pytest.raises(UserError, match="unknown provider 'nope'; known: chatman"):
        registry.provider("nope")
