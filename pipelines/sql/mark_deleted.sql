-- A complete full scan did not see these rows: the provider deleted them.
-- The rows stay, with the time crmsync noticed. {table} and {key} are filled in by the runner;
-- seen_ids is the scan's ids, registered as a view.
UPDATE {table}
SET deleted_at = $noticed_at
WHERE deleted_at IS NULL
  AND CAST({key} AS VARCHAR) NOT IN (SELECT id FROM seen_ids);
