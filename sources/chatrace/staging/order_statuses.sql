-- materialized: view
-- The Chatrace order statuses as configured (sources.chatrace.order_statuses and
-- final_order_statuses, loaded by each sync). Its own model so the orders still build before
-- a sync has loaded them (they are then named status_<code> and none is final).
SELECT status, name, final
FROM raw_chatrace.order_statuses
WHERE deleted_at IS NULL
