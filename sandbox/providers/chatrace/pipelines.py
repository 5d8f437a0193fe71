"""Chatrace pipelines, their opportunities and the opportunities' comments.

Each pipeline's generated opportunities are a Table whose owners (contact ks) form a sorted
numpy array, so opportunity ids ascend with the owning contact and "the opportunities of
contact c" is a binary search. Opportunity ids are PIPELINE_ID_STEP * (pipeline index + 1) + k.
Generated comments (0-4 per opportunity) are built on read; an opportunity's comment list is
stored only once something changes it.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from crmsync.sandbox.clock import BASE_END_MS, Timeline, mix, mix_array, now_ms, sql_time
from crmsync.sandbox.table import Record, Table

from .catalog import (ADMIN_IDS, COMMENTS, CONTACT_ID_BASE, ISSUES, NEW_COMMENT_ID_BASE, PIPELINES,
                      PRODUCTS)
from .contacts import ContactStore
from .params import ApiError

SALT = 0xC4A7_0002
PIPELINE_ID_STEP = 10_000_000
COMMENT_COUNTS = np.array((0, 0, 1, 1, 2, 2, 3, 4))  # drawn by mix(k) % 8
STATUSES = ("open", "won", "lost")
PRIORITIES = ("low", "medium", "high")
HOUR_MS, DAY_MS = 3_600_000, 86_400_000


class Pipeline:
    def __init__(self, index: int, owners: np.ndarray, contacts: ContactStore, salt: int) -> None:
        self.id, self.name, _mean, self.stages, self.title_template = PIPELINES[index]
        self.id_base = PIPELINE_ID_STEP * (index + 1)
        self.owners = owners
        self.contacts = contacts
        self.salt = salt
        self.table = Table(len(owners), self._generate, self.id_of, Timeline(len(owners), salt))
        self._created_of: dict[int, list[int]] = {}  # contact k -> opportunity ks created later
        self._comments: dict[int, list[Record]] = {}  # opportunity k -> comments, once changed

    def id_of(self, k: int) -> int:
        return self.id_base + k

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name}

    def stage(self, stage_id: int) -> dict[str, Any]:
        for sid, name in self.stages:
            if sid == stage_id:
                return {"id": sid, "name": name}
        raise ApiError(400, "Invalid parameters: stage_id is not a stage of this pipeline")

    # -- opportunities --------------------------------------------------------------------
    def _generate(self, k: int) -> Record:
        contact_k = int(self.owners[k])
        rng = random.Random(mix(k, self.salt))
        created = self._generated_created_ms(k)
        updated = min(created + rng.randint(0, 90 * DAY_MS), BASE_END_MS - 1000)
        status = rng.choices(STATUSES, (0.6, 0.2, 0.2))[0]
        stage = self.stages[-1] if status == "won" else rng.choice(
            self.stages if status == "lost" else self.stages[:-1])
        product, issue = rng.choice(PRODUCTS)[0], rng.choice(ISSUES)
        name = ""
        if "{name}" in self.title_template:  # building a person is the costly part: only when needed
            name = self.contacts.population.person(self.contacts.person_of(contact_k)).name
        title = self.title_template.format(product=product, issue=issue, name=name)
        return {
            "id": self.id_of(k), "contact_id": CONTACT_ID_BASE + contact_k, "title": title,
            "description": rng.choice(("", "Came in through WhatsApp.", "Asked about bulk pricing.")),
            "value": rng.randint(0, 200) * 25, "status": status,
            "priority": rng.choices(PRIORITIES, (0.5, 0.35, 0.15))[0],
            "stage": {"id": stage[0], "name": stage[1]},
            "assigned_admins": rng.sample(ADMIN_IDS, rng.choice((0, 1, 1, 1, 2))),
            "created_at": sql_time(created), "created_by": rng.choice(ADMIN_IDS),
            "updated_at": sql_time(updated), "updated_by": rng.choice(ADMIN_IDS),
        }

    def _generated_created_ms(self, k: int) -> int:
        """Some time after the owner subscribed, before the end of the generated history."""
        subscribed = self.contacts.table.timeline.created_ms(int(self.owners[k]))
        delay = HOUR_MS + mix(k, self.salt + 3) % (60 * DAY_MS)
        return min(subscribed + delay, BASE_END_MS - 2 * DAY_MS)

    def k_of_id(self, opportunity_id: int) -> int:
        k = opportunity_id - self.id_base
        if not self.table.exists(k):
            raise ApiError(404, "Opportunity not found")
        return k

    def get(self, k: int) -> Record:
        record = self.table.get(k)
        if record is None:
            raise ApiError(404, "Opportunity not found")
        return record

    def of_contact(self, contact_k: int) -> list[int]:
        """Live opportunity ks of one contact, ascending."""
        lo = int(np.searchsorted(self.owners, contact_k, side="left"))
        hi = int(np.searchsorted(self.owners, contact_k, side="right"))
        ks = list(range(lo, hi)) + self._created_of.get(contact_k, [])
        return [k for k in ks if self.table.exists(k)]

    def page(self, offset: int, limit: int, contact_k: int | None) -> list[Record]:
        if contact_k is None:
            return self.table.page(offset, limit)
        return self.table.records(self.of_contact(contact_k)[offset:offset + limit])

    def create(self, contact_k: int, fields: dict[str, Any], by: int) -> int:
        created = now_ms()
        first = self.stages[0]
        defaults = {"title": "", "description": "", "value": 0, "status": "open", "priority": "low",
                    "stage": {"id": first[0], "name": first[1]}, "assigned_admins": []}

        def build(k: int) -> Record:
            record = {"id": self.id_of(k), "contact_id": CONTACT_ID_BASE + contact_k, **defaults}
            record.update(fields)
            stamp = sql_time(created)
            record.update(created_at=stamp, created_by=by, updated_at=stamp, updated_by=by)
            return record

        k = self.table.create(build, created)
        self._created_of.setdefault(contact_k, []).append(k)
        return k

    def update(self, k: int, fields: dict[str, Any], by: int) -> None:
        stamp = now_ms()
        record = dict(self.get(k), **fields, updated_at=sql_time(stamp), updated_by=by)
        self.table.put(k, record, stamp)

    def delete(self, k: int) -> None:
        self.table.delete(k)
        self._comments.pop(k, None)

    # -- comments -------------------------------------------------------------------------
    def comments(self, k: int) -> list[Record]:
        if not self.table.exists(k):
            raise ApiError(404, "Opportunity not found")
        if k in self._comments:
            return self._comments[k]
        if k >= self.table.n_base:
            return []
        return self._generated_comments(k)

    def _generated_comments(self, k: int) -> list[Record]:
        count = int(COMMENT_COUNTS[mix(k, self.salt + 1) % len(COMMENT_COUNTS)])
        rng = random.Random(mix(k, self.salt + 2))
        opened = self._generated_created_ms(k)
        step = (BASE_END_MS - opened) // (count + 1)
        # Spread between the opening and the end of the history, ascending with the id.
        return [{"id": self.id_of(k) * 10 + i, "data": rng.choice(COMMENTS),
                 "created_at": sql_time(opened + (i + 1) * step - rng.randint(0, step // 2)),
                 "created_by": rng.choice(ADMIN_IDS)} for i in range(count)]

    def add_comment(self, k: int, comment_id: int, text: str, by: int) -> Record:
        comments = list(self.comments(k))
        comment = {"id": comment_id, "data": text, "created_at": sql_time(now_ms()), "created_by": by}
        self._comments[k] = comments + [comment]
        return comment

    def delete_comment(self, k: int, comment_id: int) -> None:
        comments = self.comments(k)
        kept = [c for c in comments if c["id"] != comment_id]
        if len(kept) == len(comments):
            raise ApiError(404, "Comment not found")
        self._comments[k] = kept

    def comment_count(self) -> int:
        n = self.table.n_base
        alive = self.table.alive()
        base = alive[alive < n]
        changed = np.fromiter(self._comments, dtype=np.int64, count=len(self._comments))
        base = base[~np.isin(base, changed)]
        generated = COMMENT_COUNTS[mix_array(base, self.salt + 1) % np.uint64(len(COMMENT_COUNTS))]
        return int(generated.sum()) + sum(len(c) for c in self._comments.values())


class OpportunityStore:
    """Every pipeline, plus which contacts must keep an opportunity to stay reachable."""

    def __init__(self, contacts: ContactStore) -> None:
        population = contacts.population
        n = contacts.table.n_base
        rng = np.random.default_rng([population.seed, SALT])
        # Chatrace has no contact listing: people in no listable provider are found only
        # through their opportunities, so each of them owns at least one.
        elsewhere = np.zeros(population.size, dtype=bool)
        for provider in ("chatman", "whautomate", "waabot"):
            elsewhere[population.members(provider)] = True
        self.lonely = ~elsewhere[contacts.members]
        counts = [np.minimum(rng.poisson(spec[2], n), 3) for spec in PIPELINES]
        forced = (sum(counts) == 0) & self.lonely
        choice = rng.integers(0, len(PIPELINES), n)
        for p, count in enumerate(counts):
            count[forced & (choice == p)] = 1
        base_salt = population.seed * 1_000_003 + SALT
        self.pipelines = [Pipeline(p, np.repeat(np.arange(n), count), contacts, base_salt + 7919 * p)
                          for p, count in enumerate(counts)]
        self.contacts = contacts
        self._next_comment_id = NEW_COMMENT_ID_BASE

    def pipeline(self, pipeline_id: int) -> Pipeline:
        for pipeline in self.pipelines:
            if pipeline.id == pipeline_id:
                return pipeline
        raise ApiError(404, "Pipeline not found")

    def new_comment_id(self) -> int:
        self._next_comment_id += 1
        return self._next_comment_id

    def of_contact(self, contact_k: int) -> list[tuple[Pipeline, int]]:
        return [(p, k) for p in self.pipelines for k in p.of_contact(contact_k)]

    def must_keep(self, pipeline: Pipeline, k: int) -> bool:
        """Deleting this would leave a contact no client could ever find (churn avoids it)."""
        contact_k = pipeline.get(k)["contact_id"] - CONTACT_ID_BASE
        lonely = contact_k >= len(self.lonely) or bool(self.lonely[contact_k])
        return lonely and len(self.of_contact(contact_k)) == 1

    def delete_of_contact(self, contact_k: int) -> list[int]:
        """Delete a contact's opportunities (they go with the contact); their ids."""
        gone = []
        for pipeline, k in self.of_contact(contact_k):
            gone.append(pipeline.id_of(k))
            pipeline.delete(k)
        return gone

    def count(self) -> int:
        return sum(len(p.table) for p in self.pipelines)

    def comment_count(self) -> int:
        return sum(p.comment_count() for p in self.pipelines)

