-- --full-resync: the members of _push_desired that a held membership matches, to send again
-- (adds are idempotent in every provider). Not those matching a lost membership (kept with
-- push.on_drift = "report"): report means drift is told, not repaired.
SELECT person_id, contact_id, phone_e164, email, name
FROM _push_desired
WHERE membership IS NOT NULL AND membership NOT IN (SELECT membership FROM _push_held WHERE lost)
ORDER BY person_id;
