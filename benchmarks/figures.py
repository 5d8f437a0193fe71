"""One measured figure, and how a list of them is shown: every benchmark returns Figures."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Figure:
    name: str  # dotted, stable across runs: "sync.chatman.floor_ratio"
    value: float
    unit: str  # "s", "x" (a ratio), "MB", "calls", "rows/s"
    target: str | None = None  # as written in issue #7, e.g. "<= 1.3"; None: reported only
    met: bool | None = None  # None when there is no target
    note: str = ""  # what was measured against what, or why a target is missed

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def at_most(name: str, value: float, unit: str, limit: float, note: str = "") -> Figure:
    return Figure(name, round(value, 3), unit, f"<= {limit:g}", value <= limit, note)


def at_least(name: str, value: float, unit: str, limit: float, note: str = "") -> Figure:
    return Figure(name, round(value, 3), unit, f">= {limit:g}", value >= limit, note)


def reported(name: str, value: float, unit: str, note: str = "") -> Figure:
    return Figure(name, round(value, 3), unit, None, None, note)
