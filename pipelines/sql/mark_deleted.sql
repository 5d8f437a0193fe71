-- After a complete full scan: rows it did not see were deleted by the provider (they stay,
-- with the time crmsync noticed), and rows it saw are live, even if an earlier scan thought
-- them gone (a listing that shifts while it is read can skip a row once).
-- {table} and {key} are filled in by the runner; seen_ids is the scan's ids, registered as a view.
UPDATE {table}
SET deleted_at = CASE WHEN CAST({key} AS VARCHAR) IN (SELECT id FROM seen_ids) THEN NULL
                      ELSE $noticed_at END
WHERE (deleted_at IS NULL) = (CAST({key} AS VARCHAR) NOT IN (SELECT id FROM seen_ids));
