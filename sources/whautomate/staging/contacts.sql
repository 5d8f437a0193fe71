-- materialized: table
-- Whautomate contacts in the shared contact shape (clients are a separate record type of
-- the same people and are not contacts). One `name` field: the first word is taken as the
-- first name, the rest as the last name. Whautomate has no opt-in flag.
SELECT
    'whautomate' AS provider,
    id AS contact_id,
    phone_number AS phone_raw,
    CAST(NULL AS VARCHAR) AS calling_code,
    phone_e164(phone_number, NULL) AS phone_e164,
    email_normal(email) AS email,
    nullif(regexp_extract(name, '^\s*(\S+)', 1), '') AS first_name,
    nullif(regexp_extract(name, '^\s*\S+\s+(.*\S)', 1), '') AS last_name,
    nullif(trim(name), '') AS full_name,
    false AS names_split,  -- one name field (or none): a name split here ranks after a provider's own fields
    CAST(NULL AS BOOLEAN) AS opted_in,
    coalesce(from_json(tags, '["VARCHAR"]'), []) AS tags,
    created_at,
    updated_at,
    deleted_at
FROM raw_whautomate.contacts
