-- materialized: table
-- crm.contacts: one row per provider contact, live and deleted, with its person.
-- A live contact's person comes from identity resolution. A deleted contact, and a record
-- crmsync's own push created (created_by_crmsync), took no part in it (it may not bridge two
-- people); it is attached to the person of a contact that took part and shares its phone or
-- email (the smallest person_id when several), else its person_id is NULL.
WITH attached AS (
    SELECT d.contact_key, min(i.person_id) AS person_id
    FROM crm.identity_edges AS d
    JOIN crm.identity_edges AS e ON e.identity_key = d.identity_key AND e.resolves
    JOIN crm.identities AS i ON i.contact_key = e.contact_key
    WHERE NOT d.resolves
    GROUP BY d.contact_key
)
SELECT
    coalesce(i.person_id, a.person_id) AS person_id,
    c.provider,
    c.contact_id,
    c.phone_raw,
    c.calling_code,
    c.phone_e164,
    -- valid, possible (a plausible number in a range phonenumbers does not know yet: it keeps
    -- its E.164 and joins), junk (no E.164, joins nobody); NULL: no phone.
    phone_quality(c.phone_raw, c.calling_code) AS phone_quality,
    c.email,
    c.first_name,
    c.last_name,
    c.full_name,
    c.opted_in,
    c.tags,
    c.created_at,
    c.updated_at,
    c.deleted_at,
    -- Made by crmsync's push (a DM Champ contact, a Waabot group record), not by the person
    -- or the business: crm.people does not count it as the person being in that provider.
    c.created_by_crmsync
FROM crm.contact_records AS c
LEFT JOIN crm.identities AS i ON i.contact_key = c.contact_key
LEFT JOIN attached AS a ON a.contact_key = c.contact_key
