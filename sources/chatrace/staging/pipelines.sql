-- materialized: view
-- Chatrace pipelines (their names, for the opportunities).
SELECT 'chatrace' AS provider, CAST(id AS VARCHAR) AS pipeline_id, name, deleted_at
FROM raw_chatrace.pipelines
