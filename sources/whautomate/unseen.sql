-- Live rows the listing just scanned did not show: deleted, or skipped by a listing that
-- shifted while it was read. `seen_ids` (id) is registered by the source; {table} is ours.
SELECT id
FROM raw_whautomate.{table}
WHERE deleted_at IS NULL AND id NOT IN (SELECT id FROM seen_ids)
