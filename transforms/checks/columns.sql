-- Where the built relation differs from its [columns] declaration (name, position or type):
-- an empty build (raw table missing) uses the declaration, so it must match the real one.
WITH declared AS (
    SELECT * FROM (VALUES {declared}) AS d(position, column_name, column_type)
), built AS (
    SELECT column_index AS position, column_name, data_type AS column_type
    FROM duckdb_columns()
    WHERE database_name = current_database() AND schema_name = {schema} AND table_name = {table}
)
SELECT coalesce(declared.position, built.position) AS position,
       declared.column_name AS declared_name, declared.column_type AS declared_type,
       built.column_name AS built_name, built.column_type AS built_type
FROM declared FULL JOIN built ON declared.position = built.position
WHERE declared.column_name IS DISTINCT FROM built.column_name
   OR declared.column_type IS DISTINCT FROM built.column_type
ORDER BY position
