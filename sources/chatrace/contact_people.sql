-- The person (phone, email) of each live contact earlier runs reached: the run budget re-checks
-- first those whose person changed in another provider.
SELECT id, phone AS phone_raw, NULL AS calling_code, email
FROM raw_chatrace.contacts
WHERE deleted_at IS NULL
