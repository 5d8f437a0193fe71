-- materialized: table
-- What can make two contacts one person: each contact's E.164 phone and email, as
-- `identity_key` ('phone:+234...', 'email:...'). A junk phone (NULL e164) and a missing or
-- empty email give no key, so they never join anyone. `resolves` is false for deleted
-- contacts and for the records crmsync's own push created (crm.crmsync_records): their keys
-- take no part in identity resolution (crm.identities), they only attach the contact to a
-- person afterwards (crm.contacts). A record crmsync made from a person can never merge or
-- split people, so pushing never changes who is who.
SELECT contact_key, deleted_at IS NULL AND NOT created_by_crmsync AS resolves, 'phone:' || phone_e164 AS identity_key
FROM crm.contact_records
WHERE phone_e164 IS NOT NULL AND trim(phone_e164) <> ''
UNION
SELECT contact_key, deleted_at IS NULL AND NOT created_by_crmsync AS resolves, 'email:' || email AS identity_key
FROM crm.contact_records
WHERE trim(email) <> ''
