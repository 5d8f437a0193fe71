-- The latest push run.
SELECT run_id, status, started_at, finished_at, added, removed, rejected, held
FROM ops.push_runs
ORDER BY started_at DESC
LIMIT 1;
