-- materialized: table
-- Chatrace contacts in the shared contact shape. Opted in = `subscribed` is 1; tags are the
-- names in its tag list. Chatrace gives no creation or update time: `subscribed_date` stands
-- for the creation, and updated_at stays NULL.
SELECT
    'chatrace' AS provider,
    CAST(id AS VARCHAR) AS contact_id,
    phone AS phone_raw,
    CAST(NULL AS VARCHAR) AS calling_code,
    phone_e164(phone, NULL) AS phone_e164,
    email_normal(email) AS email,
    nullif(trim(first_name), '') AS first_name,
    nullif(trim(last_name), '') AS last_name,
    nullif(concat_ws(' ', nullif(trim(first_name), ''), nullif(trim(last_name), '')), '') AS full_name,
    true AS names_split,  -- separate first and last name fields: its name ranks first for the person's name
    subscribed = 1 AS opted_in,
    coalesce(json_extract_string(tags, '$[*].name'), []) AS tags,
    subscribed_date AS created_at,
    CAST(NULL AS TIMESTAMPTZ) AS updated_at,
    deleted_at
FROM raw_chatrace.contacts
