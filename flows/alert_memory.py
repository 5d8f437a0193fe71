"""Which alerts were sent, in the warehouse's ops.alerts_sent, so the flows do not send a
condition that holds run after run every run (a provider stale for a day would notify every
15 minutes): an alert is sent when it starts, again once `alerts.repeat_hours` have passed
since it was last sent, and once as resolved when it no longer holds. A failed run is its own
event (its subject is the run): sent once, again only while it stays the flow's latest run
past repeat_hours; it needs no "resolved" (the next run's verdict says so)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from crmsync.flows.alerts import RESOLVED, Alert
from crmsync.flows.ops import sql
from crmsync.kernel.warehouse import Warehouse, connect

CONDITIONS = ("held", "rejected", "stale")  # the monitors whose end is worth a word


@dataclass(frozen=True)
class Sent:
    text: str
    first_sent_at: datetime
    last_sent_at: datetime


def sent_before(warehouse: Warehouse) -> dict[tuple[str, str], Sent]:
    """The alerts sent and not yet resolved, by (monitor, subject)."""
    with connect(warehouse) as con:
        con.execute(sql("alerts_sent_table"))
        rows = con.execute(sql("alerts_sent_read")).fetchall()
    return {(monitor, subject): Sent(text, first, last) for monitor, subject, text, first, last in rows}


def due(found: list[Alert], previous: dict[tuple[str, str], Sent], repeat_hours: float,
        now: datetime) -> list[Alert]:
    """What to send now: each alert found that is new or last sent repeat_hours ago or more,
    and a resolved alert for each condition sent before that is no longer found."""
    repeat = timedelta(hours=repeat_hours)
    current = {alert.key for alert in found}
    return [*(alert for alert in found if alert.key not in previous or now - previous[alert.key].last_sent_at >= repeat),
            *(Alert(RESOLVED, f"no longer: {sent.text}", subject) for (monitor, subject), sent in previous.items()
              if monitor in CONDITIONS and (monitor, subject) not in current)]


def remember(warehouse: Warehouse, sent: list[Alert], found: list[Alert],
             previous: dict[tuple[str, str], Sent], now: datetime) -> None:
    """After `sent` went out: their rows say so (first sent kept), and what no longer holds
    is forgotten, in one transaction."""
    current = {alert.key for alert in found}
    fresh = [alert for alert in sent if alert.monitor != RESOLVED]
    with connect(warehouse) as con:
        con.execute(sql("alerts_sent_table"))
        con.execute("BEGIN")
        for key in [key for key in previous if key not in current] + [a.key for a in fresh if a.key in previous]:
            con.execute(sql("alerts_sent_forget"), list(key))
        for alert in fresh:
            first = previous[alert.key].first_sent_at if alert.key in previous else now
            con.execute(sql("alerts_sent_insert"), [alert.monitor, alert.subject, alert.text, first, now])
        con.execute("COMMIT")
