-- The raw_chatrace tables that exist in the warehouse.
SELECT table_name FROM duckdb_tables() WHERE schema_name = 'raw_chatrace'
