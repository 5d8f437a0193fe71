-- The contact records the latest sync listed (it lists every record) and whether each is in
-- the group $target_id: a record moved to another group, or whose group was deleted, is out.
SELECT id AS membership, coalesce(group_id = $target_id, false) AS present
FROM raw_waabot.contacts
WHERE deleted_at IS NULL
