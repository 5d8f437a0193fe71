-- How many live rows {table} holds: the pages its listing will read ({table} is ours).
SELECT count(*)
FROM raw_whautomate.{table}
WHERE deleted_at IS NULL
