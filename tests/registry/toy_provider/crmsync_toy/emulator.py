"""The toy provider in the sandbox: the first people of the sandbox's population have a
toy contact (their phone in E.164, their name), paged by ten; tags can be put on and taken
off. Mounted beside the five emulated providers because its descriptor names it."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from crmsync.sandbox.provider import Provider

KEY = "toy-sandbox-key"
PEOPLE = 40
PAGE = 10


class ToyEmulator(Provider):
    name = "toy"
    prefix = "/toy/v1"
    credentials = {"api_key": KEY}

    def __init__(self, world: Any) -> None:
        super().__init__(world)
        self.contacts = {f"t{index:03d}": index for index in range(min(PEOPLE, self.population.size))}
        self.tags: dict[str, set[str]] = {}

    def routes(self) -> list[BaseRoute]:
        return [self.route("/contacts", self.list_contacts, ["GET"]),
                self.route("/contacts/{contact_id}/tags/{tag}", self.tag, ["PUT", "DELETE"])]

    def authenticate(self, request: Request) -> Response | None:
        return None if request.headers.get("x-toy-key") == KEY else self.error(401, "wrong key")

    def error(self, status: int, message: str) -> Response:
        return JSONResponse({"error": message}, status_code=status)

    async def list_contacts(self, request: Request) -> Response:
        page = int(request.query_params.get("page", "1"))
        ids = sorted(self.contacts)[(page - 1) * PAGE: page * PAGE]
        return self.ok({"results": [self.record(i) for i in ids], "next": page * PAGE < len(self.contacts)})

    def record(self, contact_id: str) -> dict[str, Any]:
        person = self.population.person(self.contacts[contact_id])
        return {"id": contact_id, "phone": person.phone_e164, "name": f"{person.first_name} {person.last_name}",
                "tags": sorted(t for t, members in self.tags.items() if contact_id in members),
                "updated_at": "2026-01-05T09:00:00Z"}

    async def tag(self, request: Request) -> Response:
        contact_id, tag = request.path_params["contact_id"], request.path_params["tag"]
        if contact_id not in self.contacts:
            return self.error(404, "no such contact")
        members = self.tags.setdefault(tag, set())
        if request.method == "PUT":
            members.add(contact_id)
        else:
            members.discard(contact_id)
        return self.ok({"ok": True})

    def accounts(self) -> Iterator[tuple[int, str]]:
        return ((index, contact_id) for contact_id, index in self.contacts.items())

    def counts(self) -> dict[str, int]:
        return {"contacts": len(self.contacts)}

    def memberships(self) -> dict[str, list[str]]:
        return {tag: sorted(members) for tag, members in self.tags.items()}

    def churn(self, rng: random.Random, update: float, create: float, delete: float) -> dict:
        return {}  # nothing changes by itself in the toy CRM
