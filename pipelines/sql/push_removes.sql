-- The held memberships (still there: not gone, not lost) that no member of _push_desired
-- matches: to remove. Only what crmsync added is ever in _push_held.
SELECT h.person_id, h.contact_id, h.record_id, h.membership, p.phone_e164, p.email, p.full_name AS name
FROM _push_held AS h
LEFT JOIN crm.people AS p ON p.person_id = h.person_id
WHERE NOT h.gone AND NOT h.lost
  AND h.membership NOT IN (SELECT membership FROM _push_desired WHERE membership IS NOT NULL)
ORDER BY h.person_id, h.membership;
