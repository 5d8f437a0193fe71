-- materialized: table
-- Identity resolution: the live contacts that share a phone or an email, transitively, are
-- one person; the records crmsync's push created take no part (crm.identity_edges) (connected components, so chains like A -phone- B -email- C come out whole).
--
-- Label propagation to a fixed point: every live contact starts labelled with its own key;
-- each round, a contact whose label changed passes it to its neighbours, which keep it when
-- it is smaller than theirs (`USING KEY` keeps one row per contact); rounds stop when no label
-- changes. The result is the smallest contact_key of the component, the person's root.
--
-- person_id = the first 16 hex digits of md5(root): stable across runs as long as the
-- smallest member stays live and in the person; it changes only when that contact is deleted,
-- or the person merges with one holding a smaller key, or splits.
WITH RECURSIVE
links AS (
    -- Each contact linked to the smallest contact sharing one of its keys: a star per key,
    -- not a clique, so a key carried by n contacts costs n links, not n squared.
    SELECT contact_key, min(contact_key) OVER (PARTITION BY identity_key) AS anchor
    FROM crm.identity_edges
    WHERE resolves
),
neighbours AS (
    SELECT contact_key AS node, anchor AS neighbour FROM links WHERE contact_key <> anchor
    UNION
    SELECT anchor, contact_key FROM links WHERE contact_key <> anchor
),
labels(contact_key, root) USING KEY (contact_key) AS (
    SELECT contact_key, contact_key FROM crm.contact_records WHERE deleted_at IS NULL AND NOT created_by_crmsync
    UNION
    SELECT n.neighbour, min(changed.root)
    FROM labels AS changed
    JOIN neighbours AS n ON n.node = changed.contact_key
    JOIN recurring.labels AS current ON current.contact_key = n.neighbour
    GROUP BY n.neighbour, current.root
    HAVING min(changed.root) < current.root
)
SELECT contact_key, root AS root_key, left(md5(root), 16) AS person_id
FROM labels
