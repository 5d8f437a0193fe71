-- Per segment and provider, what the latest push that wrote anything for it did: adds,
-- removals, rejections, held removals, and its drift (memberships the provider lost:
-- put back, 'restore', or only reported, 'reported' / 'lost').
WITH latest AS (
    SELECT segment, provider, arg_max(run_id, "at") AS run_id
    FROM ops.push_log
    GROUP BY ALL
)
SELECT l.segment, l.provider, l.run_id, max(p."at") AS pushed_at,
       count(*) FILTER (WHERE p.operation IN ('add', 'restore', 'resend') AND p.status = 'ok') AS added,
       count(*) FILTER (WHERE p.operation = 'remove' AND p.status = 'ok') AS removed,
       count(*) FILTER (WHERE p.status = 'rejected') AS rejected,
       count(*) FILTER (WHERE p.status = 'held') AS held,
       count(*) FILTER (WHERE p.operation = 'restore' OR p.status IN ('lost', 'reported')) AS drift,
       any_value(p.error) FILTER (WHERE p.status = 'rejected') AS example_error
FROM latest AS l
JOIN ops.push_log AS p USING (segment, provider, run_id)
GROUP BY ALL
ORDER BY l.segment, l.provider;
