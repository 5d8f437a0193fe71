-- materialized: view
-- Chatman campaign events (sent, delivered, read, clicked, failed) as `campaign_<status>`.
-- Its own model, not a union with triggered events: the table exists only when campaigns
-- are configured, and a missing table empties only this model.
SELECT
    'chatman' AS provider,
    event_id,
    user_id AS contact_id,
    'campaign_' || status AS event_type,
    -- reading or clicking is the person's doing; sending, delivery and failure are not
    CASE WHEN status IN ('read', 'clicked') THEN 'person' ELSE 'business' END AS actor,
    occurred_at,
    json_object('campaign_id', campaign_id, 'status', status) AS properties,
    CAST(NULL AS TIMESTAMPTZ) AS deleted_at
FROM raw_chatman.campaign_events
