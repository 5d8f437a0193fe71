-- materialized: view
-- Chatrace opportunities; `value` is already in the currency's unit (not cents).
SELECT
    'chatrace' AS provider,
    CAST(id AS VARCHAR) AS opportunity_id,
    CAST(contact_id AS VARCHAR) AS contact_id,
    CAST(pipeline_id AS VARCHAR) AS pipeline_id,
    CAST(stage_id AS VARCHAR) AS stage_id,
    stage_name,
    title,
    description,
    CAST(value AS DECIMAL(18, 2)) AS value,
    status,
    priority,
    created_at,
    updated_at,
    deleted_at
FROM raw_chatrace.opportunities
