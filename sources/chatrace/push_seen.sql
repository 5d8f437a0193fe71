-- The contacts the latest sync read (every reached contact is read again each run) and
-- whether each carries the tag $target_id (tags: [{"id", "name"}]).
SELECT CAST(id AS VARCHAR) AS membership,
       list_contains(CAST(json_extract_string(tags, '$[*].id') AS VARCHAR[]), $target_id) AS present
FROM raw_chatrace.contacts
WHERE deleted_at IS NULL
