-- materialized: view
-- Waabot contact groups (the account's own; titles may repeat).
SELECT id AS group_id, title, is_default, client_id, created_at, updated_at, deleted_at
FROM raw_waabot.contact_groups
