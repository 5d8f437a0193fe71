"""Whautomate API settings (CONTRACT.md section 3). India accounts use api.in.whautomate.com."""

from crmsync.kernel.provider import Setting
from crmsync.sources.common.http import LISTING_SETTINGS
from crmsync.sources.common.selection import SKIP_RESOURCES

SETTINGS = (
    Setting("base_url", default="https://api.whautomate.com/v1"),
    Setting("api_key", secret=True),  # sent as the x-api-key header
    Setting("page_size", default=100),  # the API's maximum (assumed)
    Setting("requests_per_second", default=5.0),  # the documented 300 requests per minute (trial: 1.0)
    Setting("concurrency", default=4),  # pages / message lists in flight, within the rate budget
    # Changes are judged client-side on updatedAt: re-read this much (clock skew, late writes)
    # before the newest change seen, on top of how long the previous scan took.
    Setting("lag_seconds", default=300),
    # Requests a run may spend (0: half the sync schedule's interval at requests_per_second): after
    # every page and the messages of the contacts the listing shows changed, what is left
    # re-reads the messages of unchanged contacts, the stalest and most likely changed first.
    Setting("run_budget", default=0),
    Setting("push_concurrency", default=4),  # push calls in flight (one contact per call)
    *LISTING_SETTINGS,
    SKIP_RESOURCES,
)
