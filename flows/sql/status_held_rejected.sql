-- Held and rejected memberships of the latest push run, per segment and provider, with a reason.
WITH latest AS (SELECT run_id FROM ops.push_runs ORDER BY started_at DESC LIMIT 1)
SELECT segment, provider, status, count(*) AS members, any_value(error) AS example_error
FROM ops.push_log
WHERE run_id = (SELECT run_id FROM latest) AND status IN ('held', 'rejected')
GROUP BY ALL
ORDER BY segment, provider, status;
