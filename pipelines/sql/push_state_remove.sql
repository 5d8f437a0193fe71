-- A confirmed remove, or a membership gone with its contact: no longer crmsync's.
DELETE FROM ops.push_state
WHERE provider = $provider AND segment = $segment AND target_id = $target_id
  AND coalesce(record_id, contact_id, 'person:' || person_id) = $membership;
