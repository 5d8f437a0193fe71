-- The person's records in every provider, live and deleted.
SELECT provider, contact_id, full_name, phone_raw, phone_e164, phone_quality, email, opted_in, tags,
       created_at, updated_at, deleted_at
FROM crm.contacts
WHERE person_id = $person_id
ORDER BY provider, contact_id;
