-- People Waabot knows: its contact records' free-text numbers (no separate country code, no
-- email). A person in several groups shows once per group; junk numbers are dropped later.
SELECT number AS phone_raw, NULL AS calling_code, NULL AS email,
       updated_at AS changed_at  -- when the person last changed: its last update
FROM raw_waabot.contacts
WHERE deleted_at IS NULL
