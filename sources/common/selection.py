"""Which of a provider's resources a run loads: all but those `skip_resources` switches off.

A real account may lack an endpoint (a plan without journeys, a white-label host without
pipeline custom fields): switching its resource off makes no request to it. The resources a
provider's contacts need (its descriptor's `required`) cannot be switched off. A resource
switched off keeps in the warehouse what earlier runs loaded (a full refresh drops it, as it
drops every table of the provider).
"""

from __future__ import annotations

import difflib

from crmsync.kernel.provider import Provider, Setting
from crmsync.sources.common.config import refused
from dlt.sources import DltSource

SKIP_RESOURCES = Setting("skip_resources", default=[])  # resource names, e.g. ["journeys"]


def without_skipped(provider: Provider, source: DltSource, skipped: list[str]) -> DltSource:
    """`source` with the resources `skipped` names deselected; a name that is no resource of
    the provider, or one it cannot go without, is a ConfigError of one line."""
    names = list(source.selected_resources)
    for name in skipped:
        if name in provider.required:
            raise refused(provider.name, SKIP_RESOURCES, f"cannot switch off {name}: the sync always loads "
                                                         f"{' and '.join(provider.required)}")
        if name not in names:
            close = difflib.get_close_matches(str(name), names, n=1)
            hint = f"did you mean {close[0]}?" if close else f"its resources: {', '.join(names)}"
            raise refused(provider.name, SKIP_RESOURCES, f"names no {provider.name} resource {name!r}; {hint}")
    return source.with_resources(*[n for n in names if n not in skipped])
