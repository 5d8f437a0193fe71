"""Provider settings and secrets, resolved the dlt way.

Values come from `.dlt/config.toml`, `.dlt/secrets.toml` or environment variables
(`SOURCES__<PROVIDER>__<KEY>`), under the section `sources.<provider>`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import dlt

from crmsync.errors import UserError


class ConfigError(UserError):
    """A setting is missing or wrong; the message is one line a user can act on."""


@dataclass(frozen=True)
class Setting:
    key: str
    secret: bool = False
    default: Any = None

    def env_name(self, provider: str) -> str:
        return f"SOURCES__{provider.upper()}__{self.key.upper()}"


def resolve(provider: str, settings: tuple[Setting, ...]) -> dict[str, Any]:
    """Every setting of one provider; a missing required one raises ConfigError."""
    values: dict[str, Any] = {}
    missing = []
    for setting in settings:
        store = dlt.secrets if setting.secret else dlt.config
        # Environment values arrive as text: the default's type says what to coerce them to.
        expected = type(setting.default) if setting.default is not None else None
        try:
            value = store.get(f"sources.{provider}.{setting.key}", expected)
        except Exception as error:  # noqa: BLE001 - dlt raises several kinds for a bad value
            raise ConfigError(
                f"{provider}: setting sources.{provider}.{setting.key} is not a valid "
                f"{expected.__name__ if expected else 'value'} ({type(error).__name__})"
            ) from None
        if value is None:
            value = setting.default
        if value is None:
            missing.append(setting)
        values[setting.key] = value
    if missing:
        first = missing[0]
        where = ".dlt/secrets.toml" if first.secret else ".dlt/config.toml"
        raise ConfigError(
            f"{provider}: missing setting sources.{provider}.{first.key} "
            f"(set it in {where} or the environment variable {first.env_name(provider)})"
        )
    return values


def provider_settings(provider: str) -> dict[str, Any]:
    """The resolved settings of one provider, from its `sources/<provider>/settings.py`."""
    module = importlib.import_module(f"sources.{provider}.settings")
    return resolve(provider, module.SETTINGS)
