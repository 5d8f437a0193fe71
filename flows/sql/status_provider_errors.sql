-- What failed in each provider's latest sync: the whole provider (every table it read, or
-- none, with one error), or single resources (each table with its own error).
WITH latest AS (
    SELECT provider, max(finished_at) AS at FROM ops.sync_runs WHERE kind = 'table' GROUP BY provider
)
SELECT s.provider, string_agg(s.name, ', ' ORDER BY s.name) AS tables, s.error, s.finished_at AS at
FROM ops.sync_runs AS s
JOIN latest ON s.provider = latest.provider AND s.finished_at = latest.at
WHERE s.kind = 'table' AND s.status <> 'ok'
GROUP BY s.provider, s.error, s.finished_at
ORDER BY s.provider, tables;
