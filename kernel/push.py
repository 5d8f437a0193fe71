"""The interface between the push engine (pipelines/push.py) and each provider's push client.

Each provider's descriptor names its `push_client(settings, run) -> PushClient`.
The engine computes who must go in and out of a target; the client only talks to the
provider. `add`/`remove` are idempotent (an add of a member already in is "ok", a remove of
one already out is "ok"), so a push killed at any point and run again ends exactly equal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class PushTarget:
    """Where a segment goes in one provider, as its segment header names it."""

    provider: str
    kind: str  # the provider's PushRule.kind: segment, list, tag, group
    name: str  # the Chatman segment, DM Champ list id, tag or group title
    bare: bool = field(default=False, compare=False)  # named by a bare id, not a quoted name

    def __str__(self) -> str:
        """As the header line writes it: `chatman segment "High value"`, `dmchamp list list_x`."""
        name = self.name if self.bare else f'"{self.name}"'
        return f"{self.provider} {self.kind} {name}"


@dataclass(frozen=True)
class Member:
    """One person to put in / take out of a target, as the warehouse knows them."""

    person_id: str
    contact_id: str | None  # the provider's live contact of that person (None: unknown there)
    phone_e164: str | None
    email: str | None
    name: str | None


@dataclass(frozen=True)
class Outcome:
    person_id: str
    status: str  # "ok" | "rejected"
    contact_id: str | None  # the provider contact the membership is on (created if needed)
    record_id: str | None  # what must be kept to undo it (Waabot: the created record's _id)
    error: str | None  # why it was rejected
    # The provider record holding the membership was created by this add (a DM Champ contact
    # for a person DM Champ did not have, a Waabot group record): crmsync's, not the person's.
    created: bool = False


class PushClient(Protocol):
    provider: str
    batch_size: int  # how many members one add/remove call takes (Chatman 1000, others 1)
    concurrency: int  # calls in flight at once (within the shared rate budget)

    def resolve_target(self, target: PushTarget, create: bool) -> str:
        """The target's id; creates a missing Chatman segment / Chatrace tag / Waabot group
        when `create`; a DM Champ list that does not exist is a UserError."""
        ...

    def add(self, target_id: str, members: list[Member]) -> list[Outcome]:
        ...

    def remove(self, target_id: str, members: list[Member], records: list[str | None]) -> list[Outcome]:
        ...
