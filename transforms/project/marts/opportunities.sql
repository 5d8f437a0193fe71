-- materialized: table
-- crm.opportunities: Chatrace's opportunities (the only provider with a pipeline), with the
-- contact's person, the pipeline's name and the comment activity that shows whether a deal
-- is being worked on (a comment does not move the opportunity's updated_at).
WITH comments AS (
    SELECT properties ->> 'opportunity_id' AS opportunity_id,
           count(*) AS comment_count,
           max(occurred_at) AS last_comment_at
    FROM staging.chatrace_comments
    WHERE deleted_at IS NULL
    GROUP BY 1
)
SELECT
    'chatrace' AS provider,
    o.opportunity_id,
    c.person_id,
    o.contact_id,
    o.pipeline_id,
    p.name AS pipeline_name,
    o.stage_id,
    o.stage_name,
    o.title,
    o.description,
    o.value,
    o.status,
    o.priority,
    coalesce(m.comment_count, 0) AS comment_count,
    m.last_comment_at,
    o.created_at,
    o.updated_at,
    o.deleted_at
FROM staging.chatrace_opportunities AS o
LEFT JOIN staging.chatrace_pipelines AS p ON p.pipeline_id = o.pipeline_id
LEFT JOIN crm.contacts AS c ON c.provider = 'chatrace' AND c.contact_id = o.contact_id
LEFT JOIN comments AS m ON m.opportunity_id = o.opportunity_id
