-- Fill _push_seen from the provider's own query (its descriptor's `push_seen` SQL, put in
-- the brackets by the engine, reading its raw tables for $target_id), one row per membership.
INSERT INTO _push_seen
SELECT membership, bool_or(present) FROM (
{query}
) GROUP BY membership;
