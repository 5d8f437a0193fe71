-- Per budgeted resource of one provider ($provider): its records in ops.confirmed, and how many
-- the latest run confirmed (those at the resource's latest confirmed_at).
SELECT resource, count(*) AS records,
       count(*) FILTER (WHERE confirmed_at = latest) AS chosen
FROM (SELECT *, max(confirmed_at) OVER (PARTITION BY resource) AS latest
      FROM ops.confirmed WHERE provider = $provider)
GROUP BY resource
ORDER BY resource;
