"""Waabot API settings (CONTRACT.md section 4)."""

from sources.common.config import Setting

SETTINGS = (
    Setting("base_url", default="https://api.waabot.com/api/v1"),
    Setting("email", secret=True),  # account login for POST /sessions
    Setting("password", secret=True),
    Setting("session_id", secret=True),  # WhatsApp instance credentials
    Setting("access_token", secret=True),
    Setting("requests_per_second", default=10.0),
)
