-- The people an identifier names: a person_id, or every person with a contact carrying that
-- E.164 phone, that raw phone text or that email ($phone and $email NULL when it is not one).
SELECT DISTINCT person_id
FROM crm.contacts
WHERE person_id IS NOT NULL
  AND (person_id = $text OR phone_e164 = $phone OR phone_raw = $text OR email = $email)
ORDER BY person_id;
