-- A held membership that still matches a member of the segment, now credited to another
-- person_id (identity resolution merged or split people): the state follows the warehouse,
-- so the audit and the next diff name the person as the warehouse does now.
UPDATE ops.push_state AS s
SET person_id = d.person_id
FROM _push_desired AS d
WHERE s.provider = $provider AND s.segment = $segment AND s.target_id = $target_id
  AND coalesce(s.record_id, s.contact_id, 'person:' || s.person_id) = d.membership
  AND s.person_id <> d.person_id;
