-- People Chatman knows: its contacts' phones (wa_id is country code + number) and emails.
SELECT wa_id AS phone_raw, NULL AS calling_code, email
FROM raw_chatman.contacts
WHERE deleted_at IS NULL
