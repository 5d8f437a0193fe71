-- materialized: table
-- crm.people: one row per person (identity resolution over the live contacts).
-- - name: from the contact whose name is most trustworthy: providers with separate first and
--   last name fields first (their staging contacts say `names_split`), then a name of two
--   words or more, then the most recently updated contact.
-- - phone_e164 / email: the value most of the person's contacts carry (ties: the smallest).
-- - providers: where the person has a live contact of their own; opted_in: opted in on any
--   of them. Records crmsync's push created (crm.contacts.created_by_crmsync) count nowhere
--   here: a person pushed into a provider has not joined it, and every run sees the same people.
-- - first_seen / last_seen: the earliest and latest of their contacts' created/updated times
--   and their events; last_activity_at: their latest event where they acted (actor 'person':
--   an inbound message, a campaign message read or clicked, a custom event), NULL if none.
WITH live AS (
    SELECT
        c.*,
        row_number() OVER (
            PARTITION BY c.person_id
            ORDER BY r.names_split AND c.full_name IS NOT NULL DESC,
                     c.full_name LIKE '% %' DESC,
                     c.full_name IS NOT NULL DESC,
                     greatest(c.created_at, c.updated_at) DESC NULLS LAST,
                     c.provider, c.contact_id
        ) AS name_rank
    FROM crm.contacts AS c
    -- names_split comes with the staging contacts; crm.contacts, a mart, keeps its columns.
    JOIN crm.contact_records AS r ON r.provider = c.provider AND r.contact_id = c.contact_id
    WHERE c.deleted_at IS NULL AND c.person_id IS NOT NULL AND NOT c.created_by_crmsync
),
values_ranked AS (
    -- Per person and kind, each phone or email ranked by how many contacts carry it.
    SELECT
        person_id, kind, value,
        row_number() OVER (PARTITION BY person_id, kind ORDER BY count(*) DESC, value) AS value_rank
    FROM (
        SELECT person_id, 'phone' AS kind, phone_e164 AS value FROM live
        UNION ALL
        SELECT person_id, 'email', email FROM live
    )
    WHERE value IS NOT NULL
    GROUP BY person_id, kind, value
),
best_values AS (
    SELECT
        person_id,
        max(value) FILTER (WHERE kind = 'phone') AS phone_e164,
        max(value) FILTER (WHERE kind = 'email') AS email
    FROM values_ranked
    WHERE value_rank = 1
    GROUP BY person_id
),
activity AS (
    SELECT person_id,
           min(occurred_at) AS first_event_at,
           max(occurred_at) AS last_event_at,
           max(occurred_at) FILTER (WHERE actor = 'person') AS last_activity_at
    FROM crm.events
    WHERE person_id IS NOT NULL
    GROUP BY person_id
),
people AS (
    SELECT
        person_id,
        max(full_name) FILTER (WHERE name_rank = 1) AS full_name,
        max(first_name) FILTER (WHERE name_rank = 1) AS first_name,
        max(last_name) FILTER (WHERE name_rank = 1) AS last_name,
        list(DISTINCT provider ORDER BY provider) AS providers,
        count(*) AS contact_count,
        coalesce(bool_or(opted_in), false) AS opted_in,
        min(least(created_at, updated_at)) AS first_contact_at,
        max(greatest(created_at, updated_at)) AS last_contact_at
    FROM live
    GROUP BY person_id
)
SELECT
    p.person_id,
    p.full_name,
    p.first_name,
    p.last_name,
    v.phone_e164,
    v.email,
    p.providers,
    p.contact_count,
    p.opted_in,
    least(p.first_contact_at, a.first_event_at) AS first_seen,
    greatest(p.last_contact_at, a.last_event_at) AS last_seen,
    a.last_activity_at
FROM people AS p
LEFT JOIN best_values AS v USING (person_id)
LEFT JOIN activity AS a USING (person_id)
