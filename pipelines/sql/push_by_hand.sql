-- How many memberships the target holds that crmsync did not make (made by hand, or there
-- before crmsync took the target over), as the latest sync read it.
SELECT count(*)
FROM _push_seen
WHERE present AND membership NOT IN (SELECT membership FROM _push_held WHERE NOT gone AND NOT lost);
