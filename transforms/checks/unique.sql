-- Keys that occur more than once. A row with a NULL in the key is not compared (as in a SQL
-- UNIQUE constraint): not_null is the test for NULLs.
SELECT {key}, count(*) AS occurrences
FROM {relation}
WHERE {key_not_null}
GROUP BY ALL
HAVING count(*) > 1
ORDER BY occurrences DESC
