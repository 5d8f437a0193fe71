-- Every column of the warehouse's staging, crm and raw relations, with its type and comment.
SELECT schema_name || '.' || table_name AS relation, column_name, data_type, comment
FROM duckdb_columns()
WHERE schema_name = 'staging' OR schema_name = 'crm' OR schema_name LIKE 'raw\_%' ESCAPE '\'
ORDER BY relation, column_index;
