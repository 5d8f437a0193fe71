-- materialized: table
-- The warehouse's "now" for segments that measure time since something: the newest event
-- time, capped at the real clock (a future-dated event cannot move it past now). On live
-- data this is about now; on a warehouse synced long ago, or on the sandbox's generated
-- history (which ends 2026-06-01), it is the end of what the warehouse knows, so "no reply
-- in 7 days" means 7 days before the data stops, not 7 days before today.
SELECT coalesce(least(max(occurred_at), now()), now()) AS as_of
FROM crm.events
