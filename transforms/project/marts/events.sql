-- materialized: table
-- crm.events: every provider's events in one shape (Chatman triggered and campaign events,
-- DM Champ and Whautomate messages, Chatrace opportunity comments), with the person of the
-- contact they belong to (NULL when crmsync never loaded that contact). `actor` says who
-- acted: 'person' (an inbound message, a campaign message read or clicked, a custom event
-- about what they did) or 'business'. Events the provider deleted are left out.
-- The pattern stands for every staging model in the shared event shape: by name, a
-- provider's `..._events`, `messages` and `comments`.
SELECT
    e.provider,
    e.event_id,
    c.person_id,
    e.contact_id,
    e.event_type,
    e.actor,
    e.occurred_at,
    e.properties
FROM staging."*_events|*_messages|*_comments" AS e
LEFT JOIN crm.contacts AS c ON c.provider = e.provider AND c.contact_id = e.contact_id
WHERE e.deleted_at IS NULL
