-- description: crmsync bench: people with a live Chatman contact, the first {changes} by person_id
-- push: chatman segment "crmsync bench"
SELECT person_id
FROM (SELECT DISTINCT person_id FROM crm.contacts WHERE provider = 'chatman' AND deleted_at IS NULL)
ORDER BY person_id
LIMIT {changes}
