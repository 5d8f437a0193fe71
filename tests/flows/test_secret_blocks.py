"""Credentials from Prefect Secret blocks: a secret setting whose value is
`prefect-secret:<block>` is read from that block on the Prefect API (the test harness's)."""

from __future__ import annotations

import pytest

from crmsync.sources.common.config import ConfigError, provider_settings


def test_a_secret_setting_names_a_secret_block(prefect_harness: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.blocks.system import Secret

    Secret(value="key-from-a-block").save("crmsync-whautomate-key", overwrite=True)
    monkeypatch.setenv("SOURCES__WHAUTOMATE__API_KEY", "prefect-secret:crmsync-whautomate-key")
    assert provider_settings("whautomate")["api_key"] == "key-from-a-block"

    monkeypatch.setenv("SOURCES__WHAUTOMATE__API_KEY", "prefect-secret:no-such-block")
    with pytest.raises(ConfigError) as refused:
        provider_settings("whautomate")
    message = str(refused.value)
    assert message.startswith("whautomate: setting sources.whautomate.api_key names the Prefect Secret block "
                              "'no-such-block', which could not be read (")
    assert "\n" not in message


def test_a_plain_setting_is_never_read_as_a_block(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only secrets name blocks: a base URL that happens to start so is refused as a URL."""
    monkeypatch.setenv("SOURCES__WHAUTOMATE__API_KEY", "k")
    monkeypatch.setenv("SOURCES__WHAUTOMATE__BASE_URL", "prefect-secret:x")
    with pytest.raises(ConfigError, match="is not an http"):
        provider_settings("whautomate")
