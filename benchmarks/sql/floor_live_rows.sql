-- The live rows of one raw table ({provider} and {table} are filled in by the benchmark).
SELECT count(*)
FROM raw_{provider}.{table}
WHERE deleted_at IS NULL
