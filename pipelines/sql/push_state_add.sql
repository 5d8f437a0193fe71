-- A confirmed add: the membership is crmsync's now (replacing a row of the same membership).
DELETE FROM ops.push_state
WHERE provider = $provider AND segment = $segment AND target_id = $target_id
  AND coalesce(record_id, contact_id, 'person:' || person_id) = $membership;
INSERT INTO ops.push_state (provider, segment, target_id, person_id, contact_id, record_id, pushed_at)
VALUES ($provider, $segment, $target_id, $person_id, $contact_id, $record_id, $at);
