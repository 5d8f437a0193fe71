-- Every push crmsync made or tried for the person, oldest first.
SELECT "at", provider, segment, operation, status, contact_id, error, run_id
FROM ops.push_log
WHERE person_id = $person_id
ORDER BY "at", provider, segment;
