-- Fill _push_held from ops.push_state for one target ($provider, $segment, $target_id, NULL
-- when it does not exist yet), with the rows made in an earlier target of the same header
-- line ($target) whose id is not $target_id: that target was deleted or made again.
-- gone: the membership's record or contact is one the warehouse saw deleted; or one it has
-- never seen although the provider's sync, which lists everything it holds, completed after
-- the push made it ($listed_at, NULL for providers whose sync does not list everything):
-- deleted before any sync saw it.
-- lost: not gone, but made in another target, or absent from the target in a sync that began
-- after the push made it (_push_seen, read at $seen_at; NULL: the provider cannot be read).
INSERT INTO _push_held
WITH held AS (
    SELECT person_id, contact_id, record_id, pushed_at, target_id,
           coalesce(record_id, contact_id, 'person:' || person_id) AS membership
    FROM ops.push_state
    WHERE provider = $provider AND segment = $segment AND (target_id = $target_id OR target = $target)
),
known AS (
    SELECT contact_id, bool_or(deleted_at IS NULL) AS live
    FROM crm.contacts
    WHERE provider = $provider
    GROUP BY contact_id
),
judged AS (
    SELECT h.*,
           CASE WHEN k.contact_id IS NOT NULL THEN NOT k.live
                ELSE coalesce(h.pushed_at < $listed_at, false) END AS gone
    FROM held AS h
    LEFT JOIN known AS k ON k.contact_id = h.membership
)
SELECT j.person_id, j.contact_id, j.record_id, j.membership, j.target_id, j.gone,
       NOT j.gone AND (j.target_id IS DISTINCT FROM $target_id
                       OR coalesce(j.pushed_at < $seen_at AND NOT s.present, false)) AS lost
FROM judged AS j
LEFT JOIN _push_seen AS s ON s.membership = j.membership;
