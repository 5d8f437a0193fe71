-- materialized: view
-- Chatman's triggered (custom) events in the shared event shape: the event name is the
-- type, its attributes the properties.
SELECT
    'chatman' AS provider,
    event_id,
    user_id AS contact_id,
    event_name AS event_type,
    -- custom events report what the person did (placed an order, booked, submitted a form)
    'person' AS actor,
    triggered_at AS occurred_at,
    coalesce(try_cast(attributes AS JSON), '{}'::JSON) AS properties,
    CAST(NULL AS TIMESTAMPTZ) AS deleted_at
FROM raw_chatman.triggered_events
