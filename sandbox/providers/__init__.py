"""One module per emulated provider; which ones the sandbox serves is the registry's word
(each provider's descriptor names its emulator)."""

from __future__ import annotations

import importlib

from crmsync.sandbox.provider import Provider


def emulator_classes() -> list[type[Provider]]:
    """The emulator of every registered provider that has one, in registry order."""
    # Here, not at the top: an emulator module alone (the sandbox's own process) need not
    # load every source and dlt.
    from crmsync.sources import registry

    classes = []
    for described in registry.providers():
        if described.emulator:
            module, _, name = described.emulator.partition(":")
            classes.append(getattr(importlib.import_module(module), name))
    return classes
