"""DM Champ API settings (CONTRACT.md section 2)."""

from sources.common.config import Setting

SETTINGS = (
    Setting("base_url", default="https://api.dmchamp.com/v1"),
    Setting("api_key", secret=True),  # sent as the apiKey query parameter
    Setting("requests_per_second", default=10.0),
)
