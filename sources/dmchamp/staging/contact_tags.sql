-- materialized: view
-- DM Champ tags per contact (name and description; DM Champ gives tags no id). Its own
-- model so the contacts still build when no tag was ever loaded.
SELECT contact_id, name, description, deleted_at
FROM raw_dmchamp.contact_tags
