"""Waabot emulator (stub: being written)."""

from __future__ import annotations

import random
from collections.abc import Iterator

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from sandbox.provider import Provider


class Waabot(Provider):
    name = "waabot"
    prefix = "/waabot/api/v1"

    def routes(self) -> list[BaseRoute]:
        return []

    def authenticate(self, request: Request) -> Response | None:
        return None

    def error(self, status: int, message: str) -> Response:
        return JSONResponse({"message": message}, status_code=status)

    def accounts(self) -> Iterator[tuple[int, str]]:
        return iter(())

    def counts(self) -> dict[str, int]:
        return {}

    def memberships(self) -> dict[str, list[str]]:
        return {}

    def churn(self, rng: random.Random, update: float, create: float, delete: float) -> dict:
        return {}
