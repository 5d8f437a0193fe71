"""Chatman record shapes and request helpers."""

from __future__ import annotations

from datetime import datetime, timezone

import pyarrow as pa

from crmsync.sources.common.records import JSON_TEXT, Column

CONTACT_COLUMNS = (
    Column("user_id", pa.string()),
    Column("wa_id", pa.string()),
    Column("country_code", pa.string()),
    Column("phone_number", pa.string()),
    Column("first_name", pa.string(), ("system_attributes", "first_name")),
    Column("last_name", pa.string(), ("system_attributes", "last_name")),
    Column("email", pa.string(), ("system_attributes", "email")),
    Column("date_of_birth", pa.string(), ("system_attributes", "date_of_birth")),
    Column("gender", pa.string(), ("system_attributes", "gender")),
    Column("city", pa.string(), ("system_attributes", "city")),
    Column("state", pa.string(), ("system_attributes", "state")),
    Column("whatsapp_opted", pa.bool_(), ("system_attributes", "whatsapp_opted")),
    Column("custom_attributes", JSON_TEXT),
    Column("user_tags", pa.list_(pa.string())),
    Column("external_customer_id", pa.string()),
    Column("created_at", pa.string(), time_format="iso"),
    Column("modified_at", pa.string(), time_format="iso"),
)

TRIGGERED_EVENT_COLUMNS = (
    Column("event_id", pa.string()),
    Column("event_name", pa.string()),
    Column("user_id", pa.string()),
    Column("attributes", JSON_TEXT),
    Column("triggered_at", pa.string(), time_format="iso"),
)

CAMPAIGN_EVENT_COLUMNS = (
    Column("event_id", pa.string()),
    Column("campaign_id", pa.string()),
    Column("user_id", pa.string()),
    Column("status", pa.string()),
    Column("occurred_at", pa.string(), time_format="iso"),
)

SEGMENT_COLUMNS = (
    Column("segment_id", pa.string()),
    Column("segment_name", pa.string()),
    Column("segment_type", pa.string()),
    Column("user_count", pa.int64()),
    Column("created_at", pa.string(), time_format="iso"),
)

# Who is in each segment (POST /segments/{id}/evaluate/), one row per segment: the push
# compares it with what it added (drift, hand-made members).
SEGMENT_MEMBER_COLUMNS = (
    Column("segment_id", pa.string()),
    Column("user_ids", pa.list_(pa.string())),
)

JOURNEY_COLUMNS = (
    Column("journey_id", pa.string()),
    Column("journey_name", pa.string()),
    Column("status", pa.string()),
    Column("user_count", pa.int64()),
    Column("created_at", pa.string(), time_format="iso"),
)

EVENT_TYPE_COLUMNS = (
    Column("event_name", pa.string()),
    Column("attributes", JSON_TEXT),
    Column("created_at", pa.string(), time_format="iso"),
)


def iso(moment: datetime) -> str:
    """The ISO-8601 form Chatman takes in start_time/end_time."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + \
        f"{moment.microsecond // 1000:03d}Z"
