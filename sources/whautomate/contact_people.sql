-- The person (phone, email) of each live contact: the messages' run budget reads first those
-- whose person changed in another provider.
SELECT id, phone_number AS phone_raw, NULL AS calling_code, email
FROM raw_whautomate.contacts
WHERE deleted_at IS NULL
