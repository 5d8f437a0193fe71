-- The latest run of each flow.
SELECT flow, run_id, status, error, started_at, finished_at
FROM ops.sync_runs
WHERE kind = 'run'
QUALIFY row_number() OVER (PARTITION BY flow ORDER BY finished_at DESC) = 1
ORDER BY flow;
