-- Fill _push_held from ops.push_state for one target ($provider, $segment, $target_id).
-- gone: the membership's record or contact is one the warehouse saw deleted; or one it has
-- never seen although the provider's sync, which lists everything it holds, completed after
-- the push made it ($listed_at, NULL for providers whose sync does not list everything):
-- deleted before any sync saw it.
INSERT INTO _push_held
WITH held AS (
    SELECT person_id, contact_id, record_id, pushed_at,
           coalesce(record_id, contact_id, 'person:' || person_id) AS membership
    FROM ops.push_state
    WHERE provider = $provider AND segment = $segment AND target_id = $target_id
),
known AS (
    SELECT contact_id, bool_or(deleted_at IS NULL) AS live
    FROM crm.contacts
    WHERE provider = $provider
    GROUP BY contact_id
)
SELECT h.person_id, h.contact_id, h.record_id, h.membership,
       CASE WHEN k.contact_id IS NOT NULL THEN NOT k.live
            ELSE coalesce(h.pushed_at < $listed_at, false) END AS gone
FROM held AS h
LEFT JOIN known AS k ON k.contact_id = h.membership;
