-- materialized: table
-- The provider records crmsync's own push created: DM Champ contacts made for a person who
-- had none, Waabot group records (ops.created_records, written as the provider confirms each
-- one). Provenance from crmsync's own log, not from the data: the provider's copy of a record
-- looks like any other. Built empty before the first push.
SELECT provider, contact_id, min(created_at) AS created_at, arg_min(person_id, created_at) AS person_id
FROM ops.created_records
GROUP BY provider, contact_id
