-- Confirmed removes, memberships gone with their contact or lost in the provider
-- (_push_forgotten: the target each was made in, and the membership): no longer crmsync's.
DELETE FROM ops.push_state AS s
WHERE s.provider = $provider AND s.segment = $segment
  AND EXISTS (SELECT 1 FROM _push_forgotten AS f
              WHERE f.target_id = s.target_id
                AND f.membership = coalesce(s.record_id, s.contact_id, 'person:' || s.person_id));
