-- Providers whose latest attempt failed, with the error.
SELECT provider, arg_max(status, finished_at) AS status, arg_max(error, finished_at) AS error,
       max(finished_at) AS at
FROM ops.sync_runs
WHERE kind = 'table'
GROUP BY provider
HAVING arg_max(status, finished_at) <> 'ok'
ORDER BY provider;
