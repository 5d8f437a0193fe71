-- Per budgeted provider and resource: how many of its records a run has confirmed (read) at
-- least once, when the least recently confirmed was last read, and the oldest and median hours
-- since (records no longer candidates, deleted or gone, are dropped from ops.confirmed by the
-- sync; candidates never confirmed yet have no row).
SELECT provider, resource, count(*) AS records,
       min(confirmed_at) AS oldest_confirmed_at,
       round(epoch(now() - min(confirmed_at)) / 3600, 2) AS oldest_hours,
       round(median(epoch(now() - confirmed_at)) / 3600, 2) AS median_hours
FROM ops.confirmed
GROUP BY ALL
ORDER BY provider, resource;
