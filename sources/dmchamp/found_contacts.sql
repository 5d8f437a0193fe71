-- The DM Champ contacts earlier runs found. Live ones are re-checked for tags and messages
-- each run, and the phones/emails that found them are not asked again; a deleted one makes
-- its person a miss from the moment the deletion was noticed.
SELECT contact_id, phone_e164, email, deleted_at
FROM raw_dmchamp.contacts
