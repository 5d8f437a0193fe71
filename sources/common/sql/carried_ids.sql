-- The live rows of {table} (key {key}) whose parent ({parent}) a budgeted run did not refresh
-- (the registered view `skipped`): the run's scan counts them as seen, so a partial refresh
-- marks nothing of theirs deleted. {table}, {key} and {parent} are filled in by the caller.
SELECT CAST({key} AS VARCHAR) AS id
FROM {table}
WHERE deleted_at IS NULL AND CAST({parent} AS VARCHAR) IN (SELECT record_key FROM skipped);
