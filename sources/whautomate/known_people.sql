-- People Whautomate knows: its live contacts' phones (international shapes and junk, kept
-- raw; to_e164 drops the junk) and emails.
SELECT phone_number AS phone_raw, NULL AS calling_code, email
FROM raw_whautomate.contacts
WHERE deleted_at IS NULL
