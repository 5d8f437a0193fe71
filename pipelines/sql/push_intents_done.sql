-- Members whose add the provider answered (_push_answered): their outcome is recorded.
DELETE FROM ops.push_intents
WHERE provider = $provider AND segment = $segment AND person_id IN (SELECT person_id FROM _push_answered);
