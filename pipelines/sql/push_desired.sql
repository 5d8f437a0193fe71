-- Who must be in one target: each member of $segment with the provider contact the
-- membership goes on, as the temp table _push_desired.
-- The contact: one the state already holds a membership on (so a membership never moves
-- while its contact lives), else the person's earliest created live contact, ties by id.
-- A membership the push made on a contact the warehouse does not know yet (a DM Champ
-- contact or Waabot record created by the push, before the next sync) counts as held too.
-- A person with no contact in the provider is in only where the push can create one
-- ($creates), and only with a phone, which creating one needs.
-- Lost memberships (the provider no longer shows them) match nobody when $restore, so their
-- members are added again; otherwise (push.on_drift = "report") they still count as held.
-- membership: the held membership this member matches (NULL: to add).
CREATE OR REPLACE TEMP TABLE _push_desired AS
WITH members AS (
    SELECT DISTINCT person_id FROM crm.segment_members WHERE segment = $segment
),
contacts AS (
    SELECT person_id, contact_id, created_at, deleted_at FROM crm.contacts WHERE provider = $provider
),
held AS (
    SELECT * FROM _push_held WHERE NOT gone AND NOT (lost AND $restore)
),
candidates AS (
    SELECT c.person_id, c.contact_id, h.membership, c.created_at
    FROM contacts AS c
    JOIN members AS m USING (person_id)
    LEFT JOIN held AS h ON c.contact_id IN (h.contact_id, h.record_id)
    WHERE c.deleted_at IS NULL
    UNION ALL
    SELECT h.person_id, h.contact_id, h.membership, NULL
    FROM held AS h
    JOIN members AS m USING (person_id)
    WHERE NOT EXISTS (SELECT 1 FROM contacts AS c WHERE c.contact_id IN (h.contact_id, h.record_id))
),
ranked AS (
    SELECT *, row_number() OVER (
        PARTITION BY person_id
        ORDER BY membership IS NOT NULL DESC, created_at NULLS LAST, contact_id NULLS LAST, membership
    ) AS pick
    FROM candidates
)
SELECT m.person_id, r.contact_id, r.membership, p.phone_e164, p.email, p.full_name AS name
FROM members AS m
LEFT JOIN ranked AS r ON r.person_id = m.person_id AND r.pick = 1
LEFT JOIN crm.people AS p ON p.person_id = m.person_id
WHERE r.person_id IS NOT NULL OR ($creates AND p.phone_e164 IS NOT NULL);
