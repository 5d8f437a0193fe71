-- People Chatman knows: its contacts' phones (wa_id is country code + number) and emails.
SELECT wa_id AS phone_raw, NULL AS calling_code, email,
       modified_at AS changed_at  -- when the person last changed: its last modification
FROM raw_chatman.contacts
WHERE deleted_at IS NULL
