-- materialized: view
-- Every provider's staging contacts in one relation, each with `contact_key`
-- ('<provider>:<contact_id>'), the node identity resolution works on. The pattern stands for
-- every staging.<provider>_contacts model, in one shape (see their .toml).
SELECT provider || ':' || contact_id AS contact_key, *
FROM staging."*_contacts" AS contacts
