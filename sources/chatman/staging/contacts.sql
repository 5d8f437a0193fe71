-- materialized: table
-- Chatman contacts in the shape every provider's staging contacts share. A table, not a
-- view: phone_e164() is a Python function the runner registers, and a view calling it would
-- fail for an analyst who opens the warehouse without it.
-- The phone is `phone_number` with its separate `country_code` (a national 08031234567 needs
-- the code); the email is trimmed and lower-cased, NULL unless it looks like an address.
SELECT
    'chatman' AS provider,
    user_id AS contact_id,
    phone_number AS phone_raw,
    country_code AS calling_code,
    phone_e164(phone_number, country_code) AS phone_e164,
    email_normal(email) AS email,
    nullif(trim(first_name), '') AS first_name,
    nullif(trim(last_name), '') AS last_name,
    nullif(concat_ws(' ', nullif(trim(first_name), ''), nullif(trim(last_name), '')), '') AS full_name,
    true AS names_split,  -- separate first and last name fields: its name ranks first for the person's name
    whatsapp_opted AS opted_in,
    coalesce(from_json(user_tags, '["VARCHAR"]'), []) AS tags,
    created_at,
    modified_at AS updated_at,
    deleted_at
FROM raw_chatman.contacts
