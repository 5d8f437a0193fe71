-- materialized: table
-- The toy CRM's contacts in the shared contact shape: one name field, E.164 phones.
SELECT
    'toy' AS provider,
    id AS contact_id,
    phone AS phone_raw,
    CAST(NULL AS VARCHAR) AS calling_code,
    phone_e164(phone, NULL) AS phone_e164,
    CAST(NULL AS VARCHAR) AS email,
    nullif(regexp_extract(name, '^\s*(\S+)', 1), '') AS first_name,
    nullif(regexp_extract(name, '^\s*\S+\s+(.*\S)', 1), '') AS last_name,
    nullif(trim(name), '') AS full_name,
    false AS names_split,
    CAST(NULL AS BOOLEAN) AS opted_in,
    coalesce(from_json(tags, '["VARCHAR"]'), []) AS tags,
    CAST(NULL AS TIMESTAMPTZ) AS created_at,
    CAST(updated_at AS TIMESTAMPTZ) AS updated_at,
    CAST(NULL AS TIMESTAMPTZ) AS deleted_at
FROM raw_toy.contacts
