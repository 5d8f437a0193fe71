"""Waabot contact groups: the account's generated groups, a second client's, and API ones."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crmsync.sandbox.clock import BASE_START_MS, iso_ms, now_ms
from crmsync.sandbox.ids import object_id_for

GROUP_SALT = 0x6A0B_0001
CLIENT_SALT = 0x6A0B_0002
# The accounts exist before any generated contact.
ACCOUNT_START_MS = BASE_START_MS - 30 * 24 * 3600 * 1000
ACCOUNT_CLIENT_ID = object_id_for(1, CLIENT_SALT, ACCOUNT_START_MS)
# A second client whose records `GET /contact?type=all` also returns (the docs' sample mixes
# two client ids, each with its own group ids) (assumed).
OTHER_CLIENT_ID = object_id_for(2, CLIENT_SALT, ACCOUNT_START_MS - 86_400_000)

Group = dict[str, Any]


@dataclass(frozen=True)
class Slot:
    """A generated group as records point at it, whatever its title later becomes."""

    group_id: str
    client_id: str


# (title, is_default, client id, share of generated records): 90% in the account's groups.
GENERATED = (
    ("Default", True, ACCOUNT_CLIENT_ID, 0.45),
    ("Customers", False, ACCOUNT_CLIENT_ID, 0.20),
    ("Leads", False, ACCOUNT_CLIENT_ID, 0.15),
    ("Newsletter", False, ACCOUNT_CLIENT_ID, 0.10),
    ("Default", True, OTHER_CLIENT_ID, 0.06),
    ("Imported", False, OTHER_CLIENT_ID, 0.04),
)
SLOT_SHARES = tuple(share for *_rest, share in GENERATED)


def _group(k: int, title: str, is_default: bool, client_id: str, created_ms: int) -> Group:
    stamp = iso_ms(created_ms)
    return {
        "_id": object_id_for(k, GROUP_SALT, created_ms),
        "is_default": is_default,
        "title": title,
        "client_id": client_id,
        "createdAt": stamp,
        "updatedAt": stamp,
        "__v": 0,
    }


class Groups:
    """Every group by id, in creation order. Small: kept whole in memory."""

    def __init__(self) -> None:
        self._by_id: dict[str, Group] = {}
        self.slots: list[Slot] = []
        for k, (title, is_default, client_id, _share) in enumerate(GENERATED):
            group = _group(k, title, is_default, client_id, ACCOUNT_START_MS + k * 60_000)
            self._by_id[group["_id"]] = group
            self.slots.append(Slot(group["_id"], client_id))
        self._next_k = len(GENERATED)

    def get(self, group_id: str) -> Group | None:
        return self._by_id.get(group_id)

    def of_client(self, client_id: str) -> list[Group]:
        return [g for g in self._by_id.values() if g["client_id"] == client_id]

    def create(self, title: str, client_id: str) -> Group:
        group = _group(self._next_k, title, False, client_id, now_ms())
        self._next_k += 1
        self._by_id[group["_id"]] = group
        return group

    def rename(self, group_id: str, title: str) -> Group:
        group = {**self._by_id[group_id], "title": title, "updatedAt": iso_ms(now_ms())}
        self._by_id[group_id] = group
        return group

    def delete(self, group_id: str) -> None:
        del self._by_id[group_id]
