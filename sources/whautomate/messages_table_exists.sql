-- Whether an earlier run loaded messages (a full refresh drops the table only at load time).
SELECT count(*) > 0 FROM duckdb_tables()
WHERE schema_name = 'raw_whautomate' AND table_name = 'messages'
