"""`--sandbox [URL]`: point every provider at a sandbox, with the sandbox credentials."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

from crmsync.kernel.environment import temporary_environment

START = "start"  # the value a bare `--sandbox` stands for

def sandbox_environment(url: str) -> dict[str, str]:
    """The environment variables that point every emulated provider at the sandbox at `url`,
    with the credentials it accepts and the settings a user would copy from their account
    (Chatman campaign ids)."""
    from crmsync.sandbox.providers import emulator_classes

    env = {}
    for cls in emulator_classes():
        section = f"SOURCES__{cls.name.upper()}__"
        env[section + "BASE_URL"] = url.rstrip("/") + cls.prefix
        for key, value in {**cls.credentials, **cls.account_settings}.items():
            env[section + key.upper()] = value if isinstance(value, str) else json.dumps(value)
        # The sandbox has no rate limit unless asked for one (then it answers 429s, which
        # crmsync honours): no pacing (a fixed rate spaces out Whautomate's one request per
        # contact: 1,000/s cost 4-11% at 20,000 contacts).
        env[section + "REQUESTS_PER_SECOND"] = "0"
    return env


@contextmanager
def linked_sandbox(option: str | None, seed: int = 7, contacts: int = 2000) -> Iterator[str | None]:
    """Apply `--sandbox`: None leaves the configuration alone; START runs a sandbox on a
    free port for the duration; anything else is the URL of a running sandbox."""
    if option is None:
        yield None
        return
    from crmsync.sandbox.server import SandboxServer
    from crmsync.sandbox.world import World

    server = SandboxServer(World(seed=seed, contacts=contacts)) if option == START else None
    url = server.start().url if server else option
    try:
        with temporary_environment(sandbox_environment(url)):
            yield url
    finally:
        if server:
            server.stop()


def with_optional_values(argv: list[str]) -> list[str]:
    """Give a bare `--sandbox` its START value, so `--sandbox` and `--sandbox URL` both parse
    (click options cannot take an optional value)."""
    out: list[str] = []
    for position, arg in enumerate(argv):
        out.append(arg)
        following = argv[position + 1] if position + 1 < len(argv) else None
        if arg == "--sandbox" and (following is None or following.startswith("-")):
            out.append(START)
    return out
