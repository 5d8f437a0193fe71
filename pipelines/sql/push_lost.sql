-- The lost memberships (drift): wanted, when their member is still in the segment.
SELECT h.person_id, h.contact_id, h.target_id, h.membership,
       h.person_id IN (SELECT person_id FROM _push_desired) AS wanted
FROM _push_held AS h
WHERE h.lost
ORDER BY h.person_id, h.membership;
