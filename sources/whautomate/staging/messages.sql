-- materialized: view
-- Whautomate messages as `message_inbound` / `message_outbound` events.
SELECT
    'whautomate' AS provider,
    id AS event_id,
    contact_id,
    'message_' || direction AS event_type,
    CASE WHEN direction = 'inbound' THEN 'person' ELSE 'business' END AS actor,
    created_at AS occurred_at,
    json_object('direction', direction, 'type', type, 'status', status, 'text', text) AS properties,
    deleted_at
FROM raw_whautomate.messages
