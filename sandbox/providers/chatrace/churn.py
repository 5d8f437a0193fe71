"""How a Chatrace account changes between two syncs (the admin churn hook).

Deletions come first, so that no record is reported both changed and deleted; updates pick
among records that existed before; creations come last.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

import numpy as np

from crmsync.sandbox import phones
from crmsync.sandbox.clock import now_ms
from crmsync.sandbox.provider import pick_share

from .catalog import ADMIN_IDS, AWAITING_PAYMENT, BASE_FIELDS, COMMENTS, OPEN_CART
from .pipelines import Pipeline

if TYPE_CHECKING:
    from .provider import Chatrace

RESOURCES = ("contacts", "opportunities", "opportunity_comments", "orders")


def churn(api: Chatrace, rng: random.Random, update: float, create: float, delete: float) -> dict:
    report: dict[str, dict[str, list[Any]]] = {
        name: {"updated": [], "created": [], "deleted": []} for name in RESOURCES}
    _delete_contacts(api, rng, delete, report)
    _delete_opportunities(api, rng, delete, report)
    _update_opportunities(api, rng, update, report)
    _update_contacts(api, rng, update, report)
    _update_orders(api, rng, update, report)
    _create_opportunities(api, rng, create, report)
    _create_comments(api, rng, create, report)
    _create_orders(api, rng, create, report)
    _create_contacts(api, rng, create, report)
    return report


def _sample(rng: random.Random, alive: np.ndarray, share: float) -> list[int]:
    count = pick_share(rng, len(alive), share)
    return [int(alive[i]) for i in rng.sample(range(len(alive)), count)]


def _forget_opportunity(pipeline: Pipeline, k: int, report: dict) -> None:
    report["opportunity_comments"]["deleted"] += [c["id"] for c in pipeline.comments(k)]
    report["opportunities"]["deleted"].append(pipeline.id_of(k))
    pipeline.delete(k)


def _delete_contacts(api: Chatrace, rng: random.Random, share: float, report: dict) -> None:
    for k in _sample(rng, api.contacts.alive(), share):
        for pipeline, opportunity_k in api.opportunities.of_contact(k):
            _forget_opportunity(pipeline, opportunity_k, report)
        report["orders"]["deleted"] += api.commerce.delete_of_contact(k)
        api.contacts.delete(k)
        report["contacts"]["deleted"].append(api.contacts.id_of(k))


def _delete_opportunities(api: Chatrace, rng: random.Random, share: float, report: dict) -> None:
    for pipeline in api.opportunities.pipelines:
        for k in _sample(rng, pipeline.table.alive(), share):
            if not api.opportunities.must_keep(pipeline, k):
                _forget_opportunity(pipeline, k, report)


def _update_opportunities(api: Chatrace, rng: random.Random, share: float, report: dict) -> None:
    """A deal moves on: a new stage and status, sometimes a new value."""
    for pipeline in api.opportunities.pipelines:
        for k in _sample(rng, pipeline.table.alive(), share):
            status = rng.choice(("open", "open", "won", "lost"))
            stages = pipeline.stages[-1:] if status == "won" else pipeline.stages[:-1]
            stage_id, stage_name = rng.choice(stages)
            fields = {"status": status, "stage": {"id": stage_id, "name": stage_name}}
            if rng.random() < 0.5:
                fields["value"] = rng.randint(0, 200) * 25
            pipeline.update(k, fields, rng.choice(ADMIN_IDS))
            report["opportunities"]["updated"].append(pipeline.id_of(k))


def _update_contacts(api: Chatrace, rng: random.Random, share: float, report: dict) -> None:
    """The contact wrote to us now; a flow or an admin changed a tag or a field."""
    contacts = api.contacts
    stamp = now_ms() // 1000

    def change(record: dict) -> None:
        record["last_interaction"] = record["last_seen"] = stamp
        if rng.random() < 0.5 and contacts.tags:
            tag_id = rng.choice(sorted(contacts.tags))
            if tag_id in record["tags"]:
                record["tags"].remove(tag_id)
            else:
                record["tags"].append(tag_id)
        else:
            record["fields"][BASE_FIELDS[0][0]] = rng.randint(0, 100)  # lead_score re-scored

    for k in _sample(rng, contacts.alive(), share):
        contacts.update(k, change)
        report["contacts"]["updated"].append(contacts.id_of(k))


def _update_orders(api: Chatrace, rng: random.Random, share: float, report: dict) -> None:
    commerce = api.commerce
    for k in _sample(rng, commerce.table.alive(), share):
        if commerce.advance(k, rng):
            report["orders"]["updated"].append(commerce.id_of(k))


def _create_opportunity(api: Chatrace, rng: random.Random, contact_k: int, report: dict) -> None:
    pipeline = rng.choice(api.opportunities.pipelines)
    stage_id, stage_name = pipeline.stages[0]
    fields = {"title": f"New enquiry #{rng.randint(1000, 9999)}", "value": rng.randint(0, 200) * 25,
              "priority": rng.choice(("low", "medium", "high")),
              "stage": {"id": stage_id, "name": stage_name}}
    k = pipeline.create(contact_k, fields, rng.choice(ADMIN_IDS))
    report["opportunities"]["created"].append(pipeline.id_of(k))


def _create_opportunities(api: Chatrace, rng: random.Random, share: float, report: dict) -> None:
    alive = api.contacts.alive()
    for _ in range(pick_share(rng, api.opportunities.count(), share)):
        _create_opportunity(api, rng, int(alive[rng.randrange(len(alive))]), report)


def _create_comments(api: Chatrace, rng: random.Random, share: float, report: dict) -> None:
    store = api.opportunities
    for _ in range(pick_share(rng, store.count(), share)):
        pipeline = rng.choice([p for p in store.pipelines if len(p.table)])
        alive = pipeline.table.alive()
        k = int(alive[rng.randrange(len(alive))])
        comment = pipeline.add_comment(k, store.new_comment_id(), rng.choice(COMMENTS),
                                       rng.choice(ADMIN_IDS))
        report["opportunity_comments"]["created"].append(comment["id"])


def _create_orders(api: Chatrace, rng: random.Random, share: float, report: dict) -> None:
    """A contact with no open cart starts a new order; it becomes their cart."""
    alive = api.contacts.alive()
    for _ in range(pick_share(rng, len(api.commerce.table), share)):
        contact_k = int(alive[rng.randrange(len(alive))])
        if api.commerce.open_cart(contact_k) is not None:
            continue  # they would add to that cart instead
        k = api.commerce.create(contact_k, rng.choice((OPEN_CART, AWAITING_PAYMENT)), rng)
        report["orders"]["created"].append(api.commerce.id_of(k))


def _create_contacts(api: Chatrace, rng: random.Random, share: float, report: dict) -> None:
    """New people write in; each gets an opportunity, so that clients can find them."""
    for _ in range(pick_share(rng, len(api.contacts.table), share)):
        person = api.population.create(rng)
        phone = phones.international(person, rng)
        email = phones.email_variant(person.email, rng)
        k = api.contacts.create(person, phone, email, rng, interacted=True)
        report["contacts"]["created"].append(api.contacts.id_of(k))
        _create_opportunity(api, rng, k, report)
