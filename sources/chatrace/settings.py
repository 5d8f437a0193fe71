"""Chatrace API settings (CONTRACT.md section 5). White-label hosts differ: set base_url."""

from crmsync.kernel.provider import Setting
from crmsync.sources.common.http import LISTING_SETTINGS, LOOKUP_SETTINGS
from crmsync.sources.common.selection import SKIP_RESOURCES

SETTINGS = (
    Setting("base_url", default="https://api.chatrace.com"),
    Setting("access_token", secret=True),  # sent as the X-ACCESS-TOKEN header
    Setting("page_size", default=100),  # the API's maximum (assumed)
    Setting("requests_per_second", default=10.0),
    Setting("concurrency", default=8),  # pages / contact, cart, order, comment requests in flight
    # Opportunities are judged client-side on updated_at: re-read this much (clock skew, late
    # writes) before the newest change seen, on top of how long the previous scan took.
    Setting("lag_seconds", default=300),
    Setting("default_region", default=""),  # ISO region (e.g. "NG") for national phone numbers
    # A new comment does not move its opportunity's updated_at: every this many hours the
    # comments of every opportunity are read (in between, those of new/changed ones only).
    Setting("comments_full_refresh_hours", default=24.0),
    Setting("recheck_missing_hours", default=24.0),  # how often known people not found are asked again
    Setting("final_order_statuses", default=[10, 13]),  # orders in these statuses never change
    # Order status codes -> the names crm.orders gives them (a code not named: "status_<code>").
    Setting("order_statuses", default={"0": "cart", "6": "awaiting_payment", "7": "paid",
                                       "10": "delivered", "13": "cancelled"}),
    Setting("push_concurrency", default=8),  # push calls in flight (one contact per call)
    *LISTING_SETTINGS,
    SKIP_RESOURCES,
    *LOOKUP_SETTINGS,
)
