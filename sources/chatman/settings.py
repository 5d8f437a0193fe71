"""Chatman API settings (CONTRACT.md section 1). The host is per account: no default."""

from crmsync.kernel.provider import Setting
from crmsync.sources.common.http import LISTING_SETTINGS
from crmsync.sources.common.selection import SKIP_RESOURCES

SETTINGS = (
    Setting("base_url"),  # https://<account-host>/v1/public-apis
    Setting("api_key", secret=True),  # sent as Authorization: Bearer <api_key>
    Setting("page_size", default=1000),  # the API's maximum
    Setting("requests_per_second", default=10.0),
    Setting("campaign_ids", default=[]),  # campaign ids are not discoverable: list them
    Setting("lag_seconds", default=300),  # re-ask this much before the cursor (late writes)
    Setting("full_scan_hours", default=24.0),  # how often a full scan marks deletions
    # Push: subscribe/unsubscribe take at most 1000 user_ids a call (the API's maximum).
    Setting("push_batch_size", default=1000),
    Setting("push_concurrency", default=2),  # push calls in flight, within the rate budget
    *LISTING_SETTINGS,
    SKIP_RESOURCES,
)
