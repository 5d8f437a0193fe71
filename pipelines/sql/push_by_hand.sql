-- How many memberships the target holds that crmsync did not make (made by hand, or there
-- before crmsync took the target over), as the latest sync read it.
SELECT count(*)
FROM _push_seen
WHERE present AND membership NOT IN (SELECT membership FROM _push_held WHERE NOT gone AND NOT lost)
  AND membership NOT IN (SELECT contact_id FROM crm.contacts  -- a killed push's, adopted again
                         WHERE provider = $provider AND person_id IN (SELECT person_id FROM _push_intents));
