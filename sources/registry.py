"""The one list of providers: the built-in ones, then those other installed packages add.

A built-in provider is its folder `sources/<name>/` (exporting `PROVIDER`) and its line in
BUILT_IN. Another package adds one with an entry point, no line here:

    [project.entry-points."crmsync.providers"]
    myprovider = "my_package:PROVIDER"

The order is the sync order within a wave (see `sync_waves`): BUILT_IN's, then the added
ones by name.
"""

from __future__ import annotations

import importlib
from functools import cache
from importlib.metadata import entry_points

from crmsync.kernel.errors import UserError
from crmsync.kernel.provider import Provider

ENTRY_POINTS = "crmsync.providers"
BUILT_IN = (
    "crmsync.sources.chatman",
    "crmsync.sources.whautomate",
    "crmsync.sources.waabot",
    "crmsync.sources.chatrace",
    "crmsync.sources.dmchamp",
)


@cache
def providers() -> tuple[Provider, ...]:
    """Every provider, built-in first; a name twice or an entry point that is not a
    Provider is a UserError naming it."""
    found = [importlib.import_module(module).PROVIDER for module in BUILT_IN]
    for point in sorted(entry_points(group=ENTRY_POINTS), key=lambda p: p.name):
        try:
            found.append(require_provider(point.load(), f"entry point {point.name} = {point.value}"))
        except (ImportError, AttributeError) as error:
            raise UserError(f"provider entry point {point.name} = {point.value} cannot be loaded: {error}") from None
    seen: set[str] = set()
    for provider in found:
        if provider.name in seen:
            raise UserError(f"two providers are named {provider.name!r}")
        seen.add(provider.name)
    return tuple(found)


def require_provider(value: object, where: str) -> Provider:
    if not isinstance(value, Provider):
        raise UserError(f"{where} is not a crmsync Provider ({type(value).__name__})")
    return value


def reload() -> tuple[Provider, ...]:
    """Look again (a package was installed or removed in this process: tests)."""
    providers.cache_clear()
    return providers()


def names() -> tuple[str, ...]:
    return tuple(p.name for p in providers())


def provider(name: str) -> Provider:
    """The provider called `name`; an unknown name is one line listing the known ones."""
    for candidate in providers():
        if candidate.name == name:
            return candidate
    raise UserError(f"unknown provider {name!r}; known: {', '.join(names())}")


def sync_waves(chosen: list[str]) -> list[list[str]]:
    """The chosen providers in the order they may sync: every listable one together, then
    each look-up provider alone, after those it follows, in registry order otherwise."""
    listable = [p.name for p in providers() if p.name in chosen and not p.lookup]
    waves = [listable] if listable else []
    pending = [p for p in providers() if p.name in chosen and p.lookup]
    while pending:
        ready = next((p for p in pending if not set(p.after) & {q.name for q in pending}), None)
        if ready is None:
            raise UserError(f"look-up providers follow each other in a circle: {', '.join(p.name for p in pending)}")
        waves.append([ready.name])
        pending.remove(ready)
    return waves
