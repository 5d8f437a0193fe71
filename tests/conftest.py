"""Fixtures shared by every test: a sandbox on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from crmsync.sandbox.server import SandboxServer
from crmsync.sandbox.world import World

SEED = 7
PEOPLE = 400


@pytest.fixture()
def sandbox() -> Iterator[SandboxServer]:
    """A fresh sandbox (seed 7, 400 people) per test: tests may change its data."""
    with SandboxServer(World(seed=SEED, contacts=PEOPLE)) as server:
        yield server


@pytest.fixture()
def http(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    """An HTTP client pointed at the sandbox's root."""
    with httpx.Client(base_url=sandbox.url, timeout=30) as client:
        yield client
