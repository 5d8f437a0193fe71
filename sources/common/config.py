"""Provider settings and secrets, resolved the dlt way.

Values come from `.dlt/config.toml`, `.dlt/secrets.toml` or environment variables
(`SOURCES__<PROVIDER>__<KEY>`), under the section `sources.<provider>`.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Collection, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import dlt
from crmsync.kernel.errors import UserError
from crmsync.kernel.provider import Setting
from crmsync.sources import registry


class ConfigError(UserError):
    """A setting is missing or wrong; the message is one line a user can act on."""


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
        elif setting.key in VALUE_CHECKS:
            VALUE_CHECKS[setting.key](provider, setting, value)
        values[setting.key] = value
    if missing:
        first = missing[0]
        where = ".dlt/secrets.toml" if first.secret else ".dlt/config.toml"
        raise ConfigError(
            f"{provider}: missing setting sources.{provider}.{first.key} "
            f"(set it in {where} or the environment variable {first.env_name(provider)})"
        )
    return values


def require_http_url(provider: str, setting: Setting, value: Any) -> None:
    """A base URL that is not http(s)://host would only fail later, after every retry."""
    parts = urlsplit(str(value))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise refused(provider, setting, f"is not an http(s) URL: {str(value)[:100]!r}")


def require_rate(provider: str, setting: Setting, value: Any) -> None:
    if value < 0:
        raise refused(provider, setting, f"must be 0 (no pacing) or a positive rate, not {value}")


def require_positive(provider: str, setting: Setting, value: Any) -> None:
    if value < 1:
        raise refused(provider, setting, f"must be at least 1, not {value}")


def require_count(provider: str, setting: Setting, value: Any) -> None:
    if value < 0:
        raise refused(provider, setting, f"must be 0 or more, not {value}")


def require_share(provider: str, setting: Setting, value: Any) -> None:
    if not 0 <= value <= 1:
        raise refused(provider, setting, f"must be a share between 0 and 1, not {value}")


def require_status_codes(provider: str, setting: Setting, value: Any) -> None:
    """A list of integer codes (an order status nobody could name would never match)."""
    if not isinstance(value, list) or not all(_is_code(code) for code in value):
        raise refused(provider, setting, f"must be a list of integer status codes, not {str(value)[:100]!r}")


def require_status_names(provider: str, setting: Setting, value: Any) -> None:
    """A table of integer status codes to names: { 7 = "paid", ... }."""
    if not isinstance(value, Mapping) or not all(
            _is_code(code) and isinstance(name, str) and name.strip() for code, name in value.items()):
        raise refused(provider, setting, 'must be a table of integer status codes to names, '
                                          f'e.g. {{ 7 = "paid" }}, not {str(value)[:100]!r}')


def _is_code(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) or \
        isinstance(value, str) and value.strip().lstrip("-").isdigit()


def refused(provider: str, setting: Setting, why: str) -> ConfigError:
    return ConfigError(f"{provider}: setting sources.{provider}.{setting.key} {why} "
                       f"(set in .dlt/config.toml or {setting.env_name(provider)})")


# Values that resolve but would only fail later (after every retry), checked by their key.
VALUE_CHECKS = {"base_url": require_http_url, "requests_per_second": require_rate,
                "max_pages": require_positive, "max_records": require_positive,
                "lookup_refused_share": require_share, "lookup_refused_min": require_count,
                "final_order_statuses": require_status_codes, "order_statuses": require_status_names}


def provider_settings(provider: str, full_scan: bool = False) -> dict[str, Any]:
    """The resolved settings of one provider (its descriptor's); with `full_scan`, the values
    that make its run scan everything replace the configured ones."""
    described = registry.provider(provider)
    values = resolve(provider, described.settings)
    return {**values, **described.full_scan} if full_scan else values


def check_known_keys(other_sections: Mapping[str, Collection[str]]) -> None:
    """Fail on a key crmsync does not know in its own sections: `sources.<provider>` and
    `other_sections` (section -> keys). dlt would ignore a misspelt key silently and the
    default would be used; the message names the key and where it is set, never its value.
    Nested tables (dlt's own per-resource sections) are not crmsync's and are left alone."""
    known = {f"sources.{p.name}": {s.key for s in p.settings} for p in registry.providers()}
    known.update({section: set(keys) for section, keys in other_sections.items()})
    for section, key, where in configured_keys(set(other_sections)):
        if section not in known:
            raise ConfigError(f"unknown provider section {section} ({where}); providers: {', '.join(registry.names())}")
        if key not in known[section]:
            close = difflib.get_close_matches(key, known[section], n=1)
            hint = f"; did you mean {close[0]}?" if close else f"; known: {', '.join(sorted(known[section]))}"
            raise ConfigError(f"unknown setting {section}.{key} ({where}){hint}")


def configured_keys(other_sections: set[str]) -> Iterator[tuple[str, str, str]]:
    """(section, key, where it is set) of every plain value set under `sources.<name>` or one
    of `other_sections`, from the environment and every TOML file dlt reads."""
    for name in sorted(os.environ):
        parts = name.lower().split("__")
        if parts[0] == "sources" and len(parts) == 3:
            yield f"sources.{parts[1]}", parts[2], f"environment variable {name}"
        elif parts[0] in other_sections and len(parts) == 2:
            yield parts[0], parts[1], f"environment variable {name}"
    for provider in dlt.config.config_providers:
        if not hasattr(provider, "to_toml"):
            continue
        where = " or ".join(provider.present_locations) or provider.name
        document = tomllib.loads(provider.to_toml())
        tables = [(f"sources.{name}", values) for name, values in document.get("sources", {}).items()]
        tables += [(section, document[section]) for section in sorted(other_sections) if section in document]
        for section, values in tables:
            if not isinstance(values, dict):
                continue
            for key, value in values.items():
                if not isinstance(value, dict):
                    yield section, key, where
