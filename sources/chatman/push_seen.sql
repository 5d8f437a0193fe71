-- The contacts the latest sync read and whether the segment $target_id holds each, from the
-- members every sync reads of every segment (segment_members: POST /segments/{id}/evaluate/).
SELECT c.user_id AS membership, coalesce(list_contains(CAST(m.user_ids AS VARCHAR[]), c.user_id), false) AS present
FROM raw_chatman.contacts AS c
LEFT JOIN raw_chatman.segment_members AS m ON m.segment_id = $target_id AND m.deleted_at IS NULL
WHERE c.deleted_at IS NULL
