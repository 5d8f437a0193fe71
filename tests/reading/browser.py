"""Debian's Chromium driven by playwright (no browser download: the system one). On CI
(CI set) a missing browser fails the test; elsewhere it is skipped saying how to get it."""

from __future__ import annotations

import os
import shutil

import pytest

INSTALL = "apt-get update && apt-get install -y chromium (.ci/run does it as root), and pip install playwright"


def chromium_path() -> str:
    """The system Chromium; without it (or playwright), fail on CI and skip elsewhere, saying so."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        import playwright  # noqa: F401
    except ImportError:
        path = None
    if path is None:
        message = f"the docs browser test needs Debian's Chromium and playwright: {INSTALL}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path
