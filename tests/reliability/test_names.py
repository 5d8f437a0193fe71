"""Push target names that are not safe as a tag, a group title or a list key (white space,
Unicode forms, punctuation, case, very long): normalised the same way on every run, so two
runs end on the same provider-side targets, none made twice; two segments that would land
on one target are refused."""

from __future__ import annotations

import shutil
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from crmsync.kernel.errors import UserError
from crmsync.pipelines.push import push
from crmsync.pipelines.sync import sync
from crmsync.sandbox.server import SandboxServer
from crmsync.sandbox.world import World
from crmsync.transforms.runner import DEFAULT_ROOT, run_transforms
from crmsync.transforms.segments import MAX_TARGET_NAME, load_segments, push_kinds, target_name

from tests.reliability.bad_input_fixtures import point_at
from tests.reliability.conftest import waabot_groups

LONG = "Customers who " + "really " * 60 + "buy"
# Each provider's name as first typed, then as typed again for the second run.
TYPED = {
    "chatman": ("  VIP \t Gold  ", "VIP Gold"),
    "whautomate": (unicodedata.normalize("NFD", "Café clients ✓"), unicodedata.normalize("NFC", "Café clients ✓")),
    "waabot": ("Ünïcödé\u00a0— Группа 🎉 ", "Ünïcödé  —  Группа 🎉"),
    "chatrace": ("VIP/Gold & Co. (2026)", "vip/gold & co. (2026)"),  # Chatrace tags ignore case
}


def header(names: dict[str, str]) -> str:
    return "".join(f'-- push: {p} {push_kinds()[p]} "{n}"\n' for p, n in names.items())


def write_segments(folder: Path, run: int) -> None:
    (folder / "odd_names.sql").write_text(
        "-- description: everyone, pushed under awkward names\n"
        + header({p: typed[run] for p, typed in TYPED.items()}) + "SELECT person_id FROM crm.people\n")
    (folder / "long_names.sql").write_text(
        "-- description: a few, pushed under a very long name\n"
        + header({p: LONG + " " * run for p in TYPED}) + "SELECT person_id FROM crm.people ORDER BY 1 LIMIT 3\n")


@pytest.mark.parametrize("variants", [
    ["VIP Gold", "  VIP   Gold ", "VIP\tGold", "VIP\u00a0Gold", "VIP\nGold\r\n"],
    [unicodedata.normalize(form, "Crème brûlée — Ünïcödé") for form in ("NFC", "NFD", "NFKC")],
    [LONG, LONG + "   ", "  " + LONG],
])
def test_the_ways_a_name_can_be_typed_give_one_name(variants: list[str]) -> None:
    for provider in ("chatman", "whautomate", "waabot", "chatrace"):
        names = {target_name(provider, v) for v in variants}
        assert len(names) == 1, names
        name = names.pop()
        assert target_name(provider, name) == name  # normalising twice changes nothing
        assert len(name) <= MAX_TARGET_NAME and name == name.strip() and "  " not in name


def test_long_names_stay_apart_and_list_ids_stay_as_written() -> None:
    first, second = target_name("waabot", LONG + " A"), target_name("waabot", LONG + " B")
    assert first != second and first[:60] == LONG[:60]
    assert target_name("dmchamp", "list_Spare_1") == "list_Spare_1"


@pytest.mark.parametrize("provider, one, other", [
    ("chatrace", "VIP Gold", "vip gold"),  # Chatrace tag names are unique ignoring case
    ("whautomate", "Opted in VIP", "opted-in-vip"),  # one Whautomate contactTag definition
    ("waabot", "VIP  Gold", "VIP Gold"),  # one name once normalised
    ("dmchamp", "list_spare_1", "list_spare_1"),
])
def test_two_segments_on_one_target_are_refused(tmp_path: Path, provider: str, one: str, other: str) -> None:
    for name, target in (("a_first", one), ("b_second", other)):
        quoted = target if provider == "dmchamp" else f'"{target}"'
        (tmp_path / f"{name}.sql").write_text(f"-- push: {provider} {push_kinds()[provider]} {quoted}\n"
                                              f"SELECT person_id FROM crm.people\n")
    with pytest.raises(UserError) as refused:
        load_segments(tmp_path)
    message = str(refused.value)
    assert "a_first.sql" in message and "b_second.sql" in message and "\n" not in message


def test_a_name_of_nothing_but_space_is_refused(tmp_path: Path) -> None:
    (tmp_path / "blank.sql").write_text('-- push: waabot group "  \t "\nSELECT person_id FROM crm.people\n')
    with pytest.raises(UserError, match="blank.sql"):
        load_segments(tmp_path)


@pytest.fixture()
def loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[SandboxServer, Path, Path]]:
    """A sandbox, a synced and modelled warehouse, and a transforms copy holding only the
    test's segments."""
    with SandboxServer(World(seed=5, contacts=40)) as server:
        point_at(monkeypatch, server, tmp_path / "pipelines")
        transforms = tmp_path / "transforms"
        shutil.copytree(DEFAULT_ROOT, transforms, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
        for shipped in (transforms / "segments").glob("*.sql"):
            shipped.unlink()
        write_segments(transforms / "segments", 0)
        warehouse = tmp_path / "w.duckdb"
        results = sync(list(TYPED), warehouse)
        assert all(r.status == "ok" for r in results.values()), {p: r.error for p, r in results.items()}
        assert run_transforms(warehouse, transforms).status == "ok"
        yield server, warehouse, transforms


def provider_side(sandbox: SandboxServer) -> dict[str, dict[str, int]]:
    memberships = httpx.get(f"{sandbox.url}/_sandbox/truth", timeout=60).json()["memberships"]
    return {p: {name: len(members) for name, members in memberships[p].items()} for p in TYPED}


@pytest.mark.slow  # sync of four providers, transform, two pushes: ~20 s
def test_two_runs_with_the_names_typed_differently_push_to_the_same_targets(loop) -> None:
    sandbox, warehouse, transforms = loop
    first = push(warehouse, transforms_root=transforms)
    assert first.status == "ok", {s: {p: t.error for p, t in ts.items()} for s, ts in first.segments.items()}
    after_first = provider_side(sandbox)

    write_segments(transforms / "segments", 1)
    second = push(warehouse, transforms_root=transforms)
    assert second.status == "ok", {s: {p: t.error for p, t in ts.items()} for s, ts in second.segments.items()}
    assert all(t.added == t.removed == 0 for t in second.targets()), second.as_dict()
    assert provider_side(sandbox) == after_first  # no new target, the same members

    for provider, (typed, _) in TYPED.items():
        name = target_name(provider, typed)
        assert first.segments["odd_names"][provider].added == after_first[provider].get(name, 0) > 0 or \
            provider == "chatrace", (provider, name, after_first[provider])
    groups = waabot_groups(sandbox)
    for written in (TYPED["waabot"][0], LONG):
        assert groups[target_name("waabot", written)] == 1, groups
    assert all(len(name) <= MAX_TARGET_NAME for names in after_first.values() for name in names)
