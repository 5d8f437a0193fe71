-- materialized: view
-- Every provider's staging contacts in one relation, each with `contact_key`
-- ('<provider>:<contact_id>'), the node identity resolution works on. The pattern stands for
-- every staging.<provider>_contacts model, in one shape (see their .toml).
-- created_by_crmsync: the record is one crmsync's own push created (crm.crmsync_records).
SELECT contacts.provider || ':' || contacts.contact_id AS contact_key,
       contacts.*,
       made.contact_id IS NOT NULL AS created_by_crmsync
FROM staging."*_contacts" AS contacts
LEFT JOIN crm.crmsync_records AS made
       ON made.provider = contacts.provider AND made.contact_id = contacts.contact_id
