-- materialized: view
-- Chatrace opportunity comments as `opportunity_comment` events of the opportunity's contact
-- (comments are written by the account's admins, `created_by`).
SELECT
    'chatrace' AS provider,
    CAST(c.id AS VARCHAR) AS event_id,
    o.contact_id,
    'opportunity_comment' AS event_type,
    'business' AS actor,
    c.created_at AS occurred_at,
    json_object('opportunity_id', CAST(c.opportunity_id AS VARCHAR), 'pipeline_id', c.pipeline_id,
                'created_by', c.created_by, 'text', c.text) AS properties,
    c.deleted_at
FROM raw_chatrace.opportunity_comments AS c
JOIN staging.chatrace_opportunities AS o ON o.opportunity_id = CAST(c.opportunity_id AS VARCHAR)
