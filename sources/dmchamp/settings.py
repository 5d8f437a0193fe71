"""DM Champ API settings (CONTRACT.md section 2)."""

from crmsync.kernel.provider import Setting
from crmsync.sources.common.http import LOOKUP_SETTINGS
from crmsync.sources.common.selection import SKIP_RESOURCES

SETTINGS = (
    Setting("base_url", default="https://api.dmchamp.com/v1"),
    Setting("api_key", secret=True),  # sent as the apiKey query parameter
    Setting("requests_per_second", default=10.0),
    Setting("concurrency", default=8),  # lookups / tags / messages requests in flight
    Setting("recheck_missing_hours", default=24.0),  # how often people not found are asked again
    Setting("lag_seconds", default=300),  # messages: re-read this much before a contact's newest
    Setting("batch_size", default=200),  # contacts per loaded arrow table
    Setting("default_region", default=""),  # ISO region (e.g. "NG") for national phone numbers
    Setting("push_concurrency", default=8),  # push calls in flight (one contact per call)
    *LOOKUP_SETTINGS,
    SKIP_RESOURCES,
)
