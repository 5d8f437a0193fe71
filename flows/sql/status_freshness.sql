-- Per provider table: when it last loaded successfully, what the latest attempt did.
SELECT provider, name AS "table",
       max(finished_at) FILTER (WHERE status = 'ok') AS fresh_at,
       arg_max(status, finished_at) AS last_status,
       arg_max(rows_loaded, finished_at) AS last_loaded,
       sum(rows_loaded) AS loaded_total
FROM ops.sync_runs
WHERE kind = 'table' AND name IS NOT NULL
GROUP BY ALL
ORDER BY provider, "table";
