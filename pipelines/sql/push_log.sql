INSERT INTO ops.push_log (run_id, provider, segment, person_id, contact_id, operation, status, error, "at")
SELECT $run_id, $provider, $segment, person_id, contact_id, operation, status, error, $at FROM _push_logged;
