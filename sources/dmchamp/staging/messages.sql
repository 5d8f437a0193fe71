-- materialized: view
-- DM Champ messages as `message_inbound` / `message_outbound` events.
SELECT
    'dmchamp' AS provider,
    id AS event_id,
    contact_id,
    'message_' || direction AS event_type,
    CASE WHEN direction = 'inbound' THEN 'person' ELSE 'business' END AS actor,
    created_at AS occurred_at,
    json_object('direction', direction, 'channel', channel, 'text', text) AS properties,
    deleted_at
FROM raw_dmchamp.messages
