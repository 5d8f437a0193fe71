-- What the provider's latest sync read of one target: every contact or record it knows
-- (membership, as in _push_held) and whether the target holds it. Empty when the provider
-- cannot be read (DM Champ lists) or has not been synced.
CREATE OR REPLACE TEMP TABLE _push_seen (
    membership VARCHAR,
    present BOOLEAN
);
