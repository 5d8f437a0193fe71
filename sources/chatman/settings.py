"""Chatman API settings (CONTRACT.md section 1). The host is per account: no default."""

from sources.common.config import Setting

SETTINGS = (
    Setting("base_url"),  # https://<account-host>/v1/public-apis
    Setting("api_key", secret=True),  # sent as Authorization: Bearer <api_key>
    Setting("page_size", default=1000),  # the API's maximum
    Setting("requests_per_second", default=10.0),
)
