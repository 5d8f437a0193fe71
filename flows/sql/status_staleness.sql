-- Per provider and resource: how many records were ever confirmed, and the oldest and median
-- time since (records still in the provider's raw tables or not: a deleted one stops being
-- refreshed, so the figures read what the budget last reached).
SELECT provider, resource, count(*) AS records,
       min(confirmed_at) AS oldest_confirmed_at,
       round(epoch(now() - min(confirmed_at)) / 3600, 2) AS oldest_hours,
       round(median(epoch(now() - confirmed_at)) / 3600, 2) AS median_hours
FROM ops.confirmed
GROUP BY ALL
ORDER BY provider, resource;
