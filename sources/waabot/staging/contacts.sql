-- materialized: table
-- Waabot contact records in the shared contact shape: one record per person per group, each
-- its own contact (identity resolution joins them by phone). `number` is free text (junk
-- gives a NULL phone_e164); Waabot has no email and no opt-in. The record's group title is
-- its tag (groups of the account's other clients are not listed: no tag).
SELECT
    'waabot' AS provider,
    c.id AS contact_id,
    c.number AS phone_raw,
    CAST(NULL AS VARCHAR) AS calling_code,
    phone_e164(c.number, NULL) AS phone_e164,
    CAST(NULL AS VARCHAR) AS email,
    nullif(regexp_extract(c.name, '^\s*(\S+)', 1), '') AS first_name,
    nullif(regexp_extract(c.name, '^\s*\S+\s+(.*\S)', 1), '') AS last_name,
    nullif(trim(c.name), '') AS full_name,
    false AS names_split,  -- one name field (or none): a name split here ranks after a provider's own fields
    CAST(NULL AS BOOLEAN) AS opted_in,
    CASE WHEN g.title IS NULL THEN [] ELSE [g.title] END AS tags,
    c.created_at,
    c.updated_at,
    c.deleted_at
FROM raw_waabot.contacts AS c
LEFT JOIN staging.waabot_groups AS g ON g.group_id = c.group_id
