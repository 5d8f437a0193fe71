"""Every emulated provider over one population: the sandbox's whole state."""

from __future__ import annotations

import random
from collections.abc import Iterator

from crmsync.sandbox.population import PROVIDERS, Population
from crmsync.sandbox.provider import Provider

# Providers whose contact records carry the person's email; the others never show it.
EMAIL_PROVIDERS = ("chatman", "whautomate", "chatrace")


class World:
    def __init__(self, seed: int = 7, contacts: int = 2000) -> None:
        from crmsync.sandbox.providers import emulator_classes

        self.seed = seed
        self.population = Population(seed, contacts)
        self.providers: dict[str, Provider] = {}
        # In the population's order, then any other emulator: churn draws from one generator
        # provider after provider, so this order is part of what a seed produces.
        for cls in sorted(emulator_classes(), key=lambda c: PROVIDERS.index(c.name) if c.name in PROVIDERS
                          else len(PROVIDERS)):
            self.providers[cls.name] = cls(self)

    def truth(self) -> dict:
        return {
            "people": list(self._people()),
            "counts": {name: p.counts() for name, p in self.providers.items()},
            "memberships": {name: p.memberships() for name, p in self.providers.items()},
        }

    def _people(self) -> Iterator[dict]:
        accounts: dict[int, dict[str, str]] = {}
        for name, provider in self.providers.items():
            for person, contact_id in provider.accounts():
                accounts.setdefault(person, {}).setdefault(name, str(contact_id))
        for index in sorted(accounts):
            person = self.population.person(index)
            shows_email = any(p in accounts[index] for p in EMAIL_PROVIDERS)
            yield {
                "person": index,
                "phone_e164": person.phone_e164,
                "email": person.email if shows_email else None,
                "accounts": accounts[index],
            }

    def churn(self, update: float, create: float, delete: float, seed: int) -> dict:
        rng = random.Random(seed)
        return {
            name: provider.churn(rng, update, create, delete)
            for name, provider in self.providers.items()
        }
