"""Waabot API settings (CONTRACT.md section 4)."""

from crmsync.kernel.provider import Setting
from crmsync.sources.common.selection import SKIP_RESOURCES

SETTINGS = (
    Setting("base_url", default="https://api.waabot.com/api/v1"),
    Setting("email", secret=True),  # account login for POST /sessions
    Setting("password", secret=True),
    Setting("session_id", secret=True),  # WhatsApp instance credentials
    Setting("access_token", secret=True),
    Setting("requests_per_second", default=10.0),
    # Where GETs carry session_id/access_token: "query" (the contract) or "body" (the docs'
    # curl examples send them as a JSON body on GET).
    Setting("instance_credentials_in", default="query"),
    Setting("lag_seconds", default=300),  # re-read this much before the cursor (late writes)
    Setting("chunk_size", default=5000),  # records turned into one arrow table at a time
    Setting("push_concurrency", default=4),  # push calls in flight (one record per call)
    SKIP_RESOURCES,
)
