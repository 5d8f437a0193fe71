-- People Whautomate knows: its live contacts' phones (international shapes and junk, kept
-- raw; to_e164 drops the junk) and emails.
SELECT phone_number AS phone_raw, NULL AS calling_code, email,
       greatest(updated_at, last_activity) AS changed_at  -- when the person last changed: its last update or activity
FROM raw_whautomate.contacts
WHERE deleted_at IS NULL
