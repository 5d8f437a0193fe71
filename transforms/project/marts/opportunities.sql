-- materialized: table
-- crm.opportunities: every provider's opportunities (staging.<provider>_opportunities, in a
-- pipeline of staging.<provider>_pipelines; Chatrace's today), with the contact's person,
-- the pipeline's name and the comment activity that shows whether a deal is being worked on
-- (a comment does not move the opportunity's updated_at): the provider's live
-- `opportunity_comment` events.
WITH comments AS (
    SELECT provider,
           properties ->> 'opportunity_id' AS opportunity_id,
           count(*) AS comment_count,
           max(occurred_at) AS last_comment_at
    FROM crm.events
    WHERE event_type = 'opportunity_comment'
    GROUP BY 1, 2
)
SELECT
    o.provider,
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
FROM staging."*_opportunities" AS o
LEFT JOIN staging."*_pipelines" AS p ON p.provider = o.provider AND p.pipeline_id = o.pipeline_id
LEFT JOIN crm.contacts AS c ON c.provider = o.provider AND c.contact_id = o.contact_id
LEFT JOIN comments AS m ON m.provider = o.provider AND m.opportunity_id = o.opportunity_id
