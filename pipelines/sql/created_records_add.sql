-- The records this batch's adds created (_push_created): crmsync's from now on.
INSERT INTO ops.created_records (provider, contact_id, person_id, segment, run_id, created_at)
SELECT $provider, contact_id, person_id, $segment, $run_id, $at FROM _push_created;
