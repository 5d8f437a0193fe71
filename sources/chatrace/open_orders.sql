-- Orders seen before that may still change (status not in $final): each run asks for them
-- by id, since a newer order may have replaced them as their contact's cart. A full refresh
-- passes no final status, to carry every known order over to the reloaded table.
SELECT order_id, contact_id
FROM raw_chatrace.orders
WHERE deleted_at IS NULL
  AND contact_id IS NOT NULL
  AND NOT list_contains($final, coalesce(status, -1))
