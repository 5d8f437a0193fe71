-- The ids a raw table holds live: what a complete listing need not load again unless its
-- cursor says it changed. {table} and {key} are filled in by sources/common/scans.py.
SELECT CAST({key} AS VARCHAR) AS id
FROM {table}
WHERE deleted_at IS NULL AND {key} IS NOT NULL
