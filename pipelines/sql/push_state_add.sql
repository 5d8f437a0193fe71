-- Confirmed adds (_push_kept): the memberships are crmsync's now, replacing rows of the same
-- membership. target: the header line's target, to know the rows when its id changes.
DELETE FROM ops.push_state
WHERE provider = $provider AND segment = $segment AND target_id = $target_id
  AND coalesce(record_id, contact_id, 'person:' || person_id) IN (SELECT membership FROM _push_kept);
INSERT INTO ops.push_state (provider, segment, target_id, person_id, contact_id, record_id, pushed_at, target)
SELECT $provider, $segment, $target_id, person_id, contact_id, record_id, $at, $target FROM _push_kept;
