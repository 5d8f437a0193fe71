-- The members of this target about to be added (_push_intended), before the calls go out.
-- They replace the target's earlier intents: a member of those not about to be added either
-- is among these or left the segment (its membership is then left alone, as a hand-made one).
DELETE FROM ops.push_intents WHERE provider = $provider AND segment = $segment;
INSERT INTO ops.push_intents (provider, segment, person_id, run_id, "at")
SELECT $provider, $segment, person_id, $run_id, $at FROM _push_intended;
