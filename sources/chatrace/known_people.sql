-- People Chatrace knows: its live contacts' phones (international shapes, kept raw; to_e164
-- drops junk) and emails, so DM Champ can look them up.
SELECT phone AS phone_raw, NULL AS calling_code, email,
       greatest(last_interaction, last_seen) AS changed_at  -- when the person last changed: its last interaction or visit
FROM raw_chatrace.contacts
WHERE deleted_at IS NULL
