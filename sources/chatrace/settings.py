"""Chatrace API settings (CONTRACT.md section 5). White-label hosts differ: set base_url."""

from sources.common.config import Setting

SETTINGS = (
    Setting("base_url", default="https://api.chatrace.com"),
    Setting("access_token", secret=True),  # sent as the X-ACCESS-TOKEN header
    Setting("page_size", default=100),
    Setting("requests_per_second", default=10.0),
)
