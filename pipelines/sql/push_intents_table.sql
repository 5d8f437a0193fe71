-- This target's members whose add an earlier push began and never recorded (it was killed):
-- a membership of theirs the provider shows is crmsync's. Empty before any push.
CREATE OR REPLACE TEMP TABLE _push_intents AS
SELECT DISTINCT person_id FROM ops.push_intents WHERE provider = $provider AND segment = $segment;
