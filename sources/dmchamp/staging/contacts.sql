-- materialized: table
-- DM Champ contacts in the shared contact shape. DM Champ never shows its contact records:
-- crmsync only knows the phone or the email that FOUND each contact (`found_by`), so that is
-- all the contact carries. The other value stored beside it is the known person's, not DM
-- Champ's, and must not join people. A contact crmsync's push put in a list that no lookup
-- found (`found_by` 'push': most were created by the push with the person's phone) carries
-- the phone it was pushed with. No names, no opt-in. The id is a MongoDB ObjectId, whose
-- first 4 bytes are the creation time in seconds.
SELECT
    'dmchamp' AS provider,
    c.contact_id,
    CASE WHEN c.found_by IN ('phone', 'push') THEN c.phone_e164 END AS phone_raw,
    CAST(NULL AS VARCHAR) AS calling_code,
    CASE WHEN c.found_by IN ('phone', 'push') THEN phone_e164(c.phone_e164, NULL) END AS phone_e164,
    CASE WHEN c.found_by = 'email'
         THEN email_normal(c.email)
    END AS email,
    CAST(NULL AS VARCHAR) AS first_name,
    CAST(NULL AS VARCHAR) AS last_name,
    CAST(NULL AS VARCHAR) AS full_name,
    false AS names_split,  -- one name field (or none): a name split here ranks after a provider's own fields
    CAST(NULL AS BOOLEAN) AS opted_in,
    coalesce(t.tags, []) AS tags,
    CASE WHEN regexp_full_match(c.contact_id, '[0-9a-f]{24}')
         THEN to_timestamp(CAST('0x' || left(c.contact_id, 8) AS BIGINT))
    END AS created_at,
    CAST(NULL AS TIMESTAMPTZ) AS updated_at,
    c.deleted_at
FROM raw_dmchamp.contacts AS c
LEFT JOIN (
    SELECT contact_id, list(name ORDER BY name) AS tags
    FROM staging.dmchamp_contact_tags
    WHERE deleted_at IS NULL
    GROUP BY contact_id
) AS t ON t.contact_id = c.contact_id
