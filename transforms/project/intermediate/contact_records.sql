-- materialized: view
-- Every provider's staging contacts in one relation, each with `contact_key`
-- ('<provider>:<contact_id>'), the node identity resolution works on.
SELECT provider || ':' || contact_id AS contact_key, *
FROM (
    SELECT * FROM staging.chatman_contacts
    UNION ALL BY NAME SELECT * FROM staging.dmchamp_contacts
    UNION ALL BY NAME SELECT * FROM staging.whautomate_contacts
    UNION ALL BY NAME SELECT * FROM staging.waabot_contacts
    UNION ALL BY NAME SELECT * FROM staging.chatrace_contacts
) AS contacts
