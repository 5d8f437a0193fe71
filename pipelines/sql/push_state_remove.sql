-- Confirmed removes, or memberships gone with their contact (_push_forgotten): no longer crmsync's.
DELETE FROM ops.push_state
WHERE provider = $provider AND segment = $segment AND target_id = $target_id
  AND coalesce(record_id, contact_id, 'person:' || person_id) IN (SELECT membership FROM _push_forgotten);
