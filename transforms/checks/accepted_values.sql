-- Rows whose value is not one of the declared ones (NULL is judged by not_null, not here).
SELECT *
FROM {relation}
WHERE {column} IS NOT NULL
  AND {column} NOT IN ({accepted})
