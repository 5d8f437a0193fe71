-- The contacts earlier runs reached and that were live then: each run reads them again, to
-- load what changed and to notice (404) the ones deleted since.
SELECT id
FROM raw_chatrace.contacts
WHERE deleted_at IS NULL
