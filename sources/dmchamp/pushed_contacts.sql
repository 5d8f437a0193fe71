-- The DM Champ contacts crmsync's push put in lists: those it holds memberships on
-- (ops.push_state) and those it held some on since (ops.push_log, operations that added),
-- each with the phone and email of the person it was pushed for (crm.people), the latest
-- pushed for when several. A contact the push created is read on the next sync this way,
-- not only once its person is looked up again.
WITH pushed AS (
    SELECT contact_id, person_id, pushed_at AS "at", 0 AS source
    FROM ops.push_state
    WHERE provider = 'dmchamp' AND contact_id IS NOT NULL
    UNION ALL
    SELECT contact_id, person_id, "at", 1 AS source
    FROM ops.push_log
    WHERE provider = 'dmchamp' AND status = 'ok' AND operation <> 'remove' AND contact_id IS NOT NULL
),
latest AS (
    SELECT contact_id, person_id
    FROM pushed
    QUALIFY row_number() OVER (PARTITION BY contact_id ORDER BY source, "at" DESC, person_id) = 1
)
SELECT l.contact_id, p.phone_e164, p.email
FROM latest AS l
LEFT JOIN crm.people AS p ON p.person_id = l.person_id
ORDER BY l.contact_id
