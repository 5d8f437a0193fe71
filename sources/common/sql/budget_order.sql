-- The candidates of one budgeted resource (the registered view `candidates`: record_key,
-- active_at, when its person last changed in another provider), each with when it was last
-- confirmed and whether it most likely changed since: never confirmed, or its person changed
-- elsewhere after. Stalest first (never confirmed first of all); ties by key, so the order is
-- the same on every run.
SELECT c.record_key,
       s.confirmed_at IS NULL OR c.active_at > s.confirmed_at AS likely_changed
FROM candidates c
LEFT JOIN ops.confirmed s
       ON s.provider = $provider AND s.resource = $resource AND s.record_key = c.record_key
ORDER BY s.confirmed_at ASC NULLS FIRST, c.record_key;
