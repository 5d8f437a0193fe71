"""How a Whautomate account changes between two syncs: contacts edited, chatting, joining
and leaving; clients retagged or moved."""

from __future__ import annotations

import random
from typing import Any

from crmsync.sandbox.clock import iso_ms, now_ms
from crmsync.sandbox.population import Person, Population
from crmsync.sandbox.provider import pick_share
from crmsync.sandbox.providers.whautomate import records
from crmsync.sandbox.providers.whautomate.state import WhautomateState

Report = dict[str, dict[str, list[str]]]


def churn(state: WhautomateState, population: Population, rng: random.Random,
          update: float, create: float, delete: float) -> Report:
    now = now_ms()
    report = {name: {"updated": [], "created": [], "deleted": []}
              for name in ("contacts", "clients", "messages")}
    alive = state.contacts.alive()
    n_update = pick_share(rng, len(alive), update)
    n_delete = pick_share(rng, len(alive), delete)
    picks = rng.sample(range(len(alive)), min(len(alive), n_update + n_delete))
    chosen = [int(alive[i]) for i in picks]
    for k in chosen[:n_update]:
        report["messages"]["created"] += _change_contact(state, k, rng, now)
        report["contacts"]["updated"].append(state.contacts.id_of(k))
    for k in chosen[n_update:]:
        report["contacts"]["deleted"].append(state.contacts.id_of(k))
        report["messages"]["deleted"] += state.delete_contact(k)
    for _ in range(pick_share(rng, len(alive), create)):
        k = state.create_contact(_newcomer(state, population, rng), {}, now)
        report["contacts"]["created"].append(state.contacts.id_of(k))
        # People join by writing in.
        report["messages"]["created"] += [m["id"] for m in state.add_messages(k, 1, rng, now)]
    report["clients"]["updated"] = _change_clients(state, rng, update, now)
    return report


def _change_contact(state: WhautomateState, k: int, rng: random.Random, now: int) -> list[str]:
    """One edit by staff or one burst of conversation; answers the new messages' ids."""
    record = state.contacts.get(k)
    kind = rng.choice(("stage", "notes", "customFields", "activity"))
    added: list[str] = []
    changes: dict[str, Any]
    if kind == "stage":
        changes = {"stage": rng.choice([s for s in records.STAGES if s != record["stage"]])}
    elif kind == "notes":
        changes = {"notes": rng.choice([n for n in records.NOTES if n != record["notes"]])}
    elif kind == "customFields":
        fields = record["customFields"]
        changes = {"customFields": {**fields, "orderCount": fields.get("orderCount", 0) + 1}}
    else:
        added = [m["id"] for m in state.add_messages(k, rng.randint(1, 2), rng, now)]
        changes = {"lastActivity": iso_ms(now)}
    state.update_contact(k, changes, now)
    return added


def _newcomer(state: WhautomateState, population: Population, rng: random.Random) -> Person:
    """Half the time someone already known elsewhere (or who left), else a new person."""
    if rng.random() < 0.5:
        for _ in range(20):
            index = rng.randrange(len(population))
            if not population.is_junk(index) and state.contact_of_person(index) is None:
                return population.person(index)
    return population.create(rng)


def _change_clients(state: WhautomateState, rng: random.Random, share: float,
                    now: int) -> list[str]:
    """Each picked client gains or loses a tag, or moves to another location."""
    alive = state.clients.alive()
    changed = []
    for i in rng.sample(range(len(alive)), pick_share(rng, len(alive), share)):
        k = int(alive[i])
        record = state.clients.get(k)
        if rng.random() < 0.5:
            tag = rng.choice(records.CLIENT_TAGS)[0]
            add, remove = ([], [tag]) if tag in record["tags"] else ([tag], [])
            state.client_tags_change(k, add, remove, now)
        else:
            here = record["primaryLocation"]["id"]
            others = [loc for loc in state.locations if loc["id"] != here]
            state.update_client(k, {"primaryLocation": dict(rng.choice(others))}, now)
        changed.append(state.clients.id_of(k))
    return changed
