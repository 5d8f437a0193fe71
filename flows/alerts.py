"""Alerts: what needs a person, found in the warehouse, sent through Apprise.

The monitors read the same `Status` as `crmsync status` (flows/status.py), so the flow's
notifications and `crmsync status --check` cannot disagree:
  - run:       the latest run of a flow failed or was partial (or none was recorded yet);
  - held:      the latest push held removals back (the mass-removal guard);
  - rejected:  the latest push had memberships a provider refused;
  - stale:     a provider's last successful sync is older than its freshness_hours.

Settings, read the dlt way (`[alerts]` in .dlt/config.toml, or ALERTS__<KEY>):
  urls             Apprise notification URLs (a list; webhook tokens may go in secrets.toml);
                   none: the flows notify no one, `status --check` still answers.
  freshness_hours  how old a provider's last successful sync may be (default 26: a daily
                   sync plus slack); `sources.<provider>.freshness_hours` sets one provider's.
  repeat_hours     how often the flows send again an alert that stays true (default 24); a
                   condition is sent when it starts and as resolved when it ends, a failed
                   run once (flows/alert_memory.py).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import dlt

from crmsync.flows.status import Status
from crmsync.kernel.errors import UserError

FAILED_STATES = ("failed", "partial")
RESOLVED = "resolved"  # the monitor of an alert saying one sent before no longer holds
DEFAULT_FRESHNESS_HOURS = 26.0
DEFAULT_REPEAT_HOURS = 24.0
KEYS = ("urls", "freshness_hours", "repeat_hours")  # the [alerts] keys the configuration check knows
PROVIDER_KEY = "freshness_hours"  # also a key of every sources.<provider> section

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Alert:
    monitor: str  # run | held | rejected | stale (| resolved, when one sent before ends)
    text: str
    subject: str  # what it is about: the failed run, "segment → provider", the provider

    @property
    def key(self) -> tuple[str, str]:
        return self.monitor, self.subject

    def as_dict(self) -> dict[str, str]:
        return {"monitor": self.monitor, "text": self.text}


@dataclass(frozen=True)
class AlertSettings:
    urls: tuple[str, ...] = ()
    freshness_hours: float = DEFAULT_FRESHNESS_HOURS
    repeat_hours: float = DEFAULT_REPEAT_HOURS

    def hours_for(self, provider: str) -> float:
        own = dlt.config.get(f"sources.{provider}.{PROVIDER_KEY}")
        return self.freshness_hours if own is None else hours(f"sources.{provider}.{PROVIDER_KEY}", own)


def alert_settings() -> AlertSettings:
    """The configured settings; a URL Apprise cannot use, or a bad number of hours, is a
    UserError naming the key (never the URL: it may carry a token)."""
    urls = dlt.config.get("alerts.urls")
    if isinstance(urls, str):  # a list written as text (an environment variable), or one URL
        urls = json.loads(urls) if urls.lstrip().startswith("[") else [urls]
    urls = [str(url) for url in urls or []]
    for position, url in enumerate(urls, 1):
        if not usable(url):
            scheme = urlsplit(url).scheme or "no scheme"
            raise UserError(f"alerts.urls: entry {position} ({scheme}://…) is not a notification URL Apprise "
                            "can use; see https://github.com/caronc/apprise/wiki")
    return AlertSettings(tuple(urls), configured_hours("freshness_hours", DEFAULT_FRESHNESS_HOURS),
                         configured_hours("repeat_hours", DEFAULT_REPEAT_HOURS))


def configured_hours(key: str, default: float) -> float:
    value = dlt.config.get(f"alerts.{key}")
    return default if value is None else hours(f"alerts.{key}", value)


def hours(key: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UserError(f"{key}: expected a number of hours, got {value!r}") from None
    if number <= 0:
        raise UserError(f"{key}: must be more than 0 hours, not {number:g}")
    return number


def usable(url: str) -> bool:
    import apprise

    return bool(apprise.Apprise().add(url))


def check(status: Status, settings: AlertSettings, now: datetime | None = None) -> list[Alert]:
    """Every threshold the warehouse's status crosses now."""
    now = now or datetime.now(UTC)
    found = [Alert("run", f"{run['flow']} run {run['status']} at {stamp(run['finished_at'])}: {run['error']}",
                   run["run_id"]) for run in status.last_runs if run["status"] in FAILED_STATES]
    if not status.last_runs:
        found.append(Alert("run", f"{status.warehouse}: no run recorded yet", "none"))
    for row in status.held_rejected:
        target = f"{row['segment']} → {row['provider']}"
        if row["status"] == "held":
            found.append(Alert("held", f"{target}: {row['members']:,} removals held by the mass-removal guard "
                                       "(crmsync push --allow-mass-removal applies them)", target))
        else:
            found.append(Alert("rejected", f"{target}: {row['members']:,} memberships rejected, "
                                           f"e.g. {row['example_error']}", target))
    for provider, fresh_at in provider_freshness(status).items():
        limit = settings.hours_for(provider)
        age = None if fresh_at is None else (now - aware(fresh_at)).total_seconds() / 3600
        if age is None or age > limit:
            since = "never synced successfully" if age is None else f"last synced {age:.1f} h ago"
            found.append(Alert("stale", f"{provider}: {since} (freshness_hours {limit:g})", provider))
    return found


def provider_freshness(status: Status) -> dict[str, datetime | None]:
    """Per provider the latest successful sync of any of its tables (None: never)."""
    fresh: dict[str, datetime | None] = {}
    for row in status.freshness:
        current, at = fresh.get(row["provider"]), row["fresh_at"]
        fresh[row["provider"]] = max((t for t in (current, at) if t is not None), key=aware, default=None)
    return fresh


def aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def stamp(at: datetime | None) -> str:
    return aware(at).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if at else "?"


def notify(alerts: list[Alert], settings: AlertSettings, where: str) -> bool:
    """One notification listing `alerts` to every configured URL; True when there was
    nothing to send or every URL took it. Never raises: an alert that cannot be sent is
    logged, it must not fail the run it reports on."""
    if not alerts or not settings.urls:
        return True
    import apprise

    sender = apprise.Apprise()
    for url in settings.urls:
        sender.add(url)
    problems = sum(alert.monitor != RESOLVED for alert in alerts)
    counts = [f"{problems} problem{'s' if problems > 1 else ''}"] if problems else []
    if len(alerts) > problems:
        counts.append(f"{len(alerts) - problems} resolved")
    title = f"crmsync: {', '.join(counts)} in {where}"
    body = "\n".join(f"[{alert.monitor}] {alert.text}" for alert in alerts)
    try:
        sent = bool(sender.notify(title=title, body=body))
    except Exception as error:  # noqa: BLE001 - see the docstring
        logger.warning("alerts: could not notify: %s: %s", type(error).__name__, error)
        return False
    if not sent:
        logger.warning("alerts: a notification URL did not take the alert (see Apprise's log above)")
    return sent
