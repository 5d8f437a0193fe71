"""The flows' settings, read the dlt way (`[flow]` in .dlt/config.toml, or FLOW__<KEY> in the
environment), with the defaults below when unset."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dlt
from croniter import croniter

from crmsync.kernel.errors import UserError
from crmsync.sources.common.budget import DEFAULT_SYNC_CRON


@dataclass(frozen=True)
class FlowSettings:
    sync_cron: str = DEFAULT_SYNC_CRON  # the incremental sync → transform → push
    full_scan_cron: str = "0 3 * * *"  # nightly: every provider lists everything, deletions are seen
    timezone: str = "UTC"  # the crons' time zone
    transform_on_partial_sync: bool = False  # build the models from what loaded when a provider failed
    retries: int = 2  # per provider task, transient faults only
    retry_delay_seconds: float = 30.0
    server_port: int = 4200  # `crmsync serve` with no PREFECT_API_URL starts a local Prefect server here
    server_startup_seconds: float = 120.0  # how long serve waits for that server to answer

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def flow_settings() -> FlowSettings:
    """The configured settings; a value of the wrong type is a UserError naming the key."""
    defaults = FlowSettings()
    values: dict[str, Any] = {}
    for key, default in defaults.as_dict().items():
        value = dlt.config.get(f"flow.{key}")
        if value is None:
            continue
        try:
            values[key] = _coerce(value, type(default))
        except ValueError:
            raise UserError(f"flow.{key}: expected {type(default).__name__}, got {value!r}") from None
    return FlowSettings(**values)


def _coerce(value: Any, kind: type) -> Any:
    # Environment variables arrive as strings; TOML values arrive typed.
    if kind is bool and isinstance(value, str):
        if value.strip().lower() in ("1", "true", "yes", "on"):
            return True
        if value.strip().lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(value)
    return kind(value)


PROVIDER_CRON = "sync_cron"  # also a key of every sources.<provider> section (a lake's own schedule)


def provider_cron(provider: str, settings: FlowSettings) -> str:
    """The cron of a provider's own deployment on a lake: `sources.<provider>.sync_cron`, else
    flow.sync_cron. A cron croniter cannot read is a UserError naming the key."""
    key = f"sources.{provider}.{PROVIDER_CRON}"
    value = dlt.config.get(key)
    if value is None:
        return settings.sync_cron
    if not isinstance(value, str) or not croniter.is_valid(value):
        raise UserError(f"{key}: not a cron expression: {value!r}")
    return value
