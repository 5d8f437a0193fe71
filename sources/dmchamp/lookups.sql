-- The answer DM Champ gave the last time each person was looked up (contact_id NULL: not
-- found), so people not found are asked again only after recheck_missing_hours.
SELECT lookup_key, contact_id, looked_up_at
FROM raw_dmchamp.lookups
