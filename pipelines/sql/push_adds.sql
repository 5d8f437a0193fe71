-- The members of _push_desired that no held membership matches: to add.
SELECT person_id, contact_id, phone_e164, email, name
FROM _push_desired
WHERE membership IS NULL
ORDER BY person_id;
