-- materialized: table
-- What can make two contacts one person: each contact's E.164 phone and email, as
-- `identity_key` ('phone:+234...', 'email:...'). A junk phone (NULL e164) and a missing or
-- empty email give no key, so they never join anyone. `live` is false for deleted contacts:
-- their keys take no part in identity resolution (crm.identities), they only attach the
-- deleted contact to a live person afterwards (crm.contacts).
SELECT contact_key, deleted_at IS NULL AS live, 'phone:' || phone_e164 AS identity_key
FROM crm.contact_records
WHERE phone_e164 IS NOT NULL AND trim(phone_e164) <> ''
UNION
SELECT contact_key, deleted_at IS NULL AS live, 'email:' || email AS identity_key
FROM crm.contact_records
WHERE trim(email) <> ''
