-- The comments already loaded for the opportunities whose comments are being read again;
-- `asked` (opportunity_id) is registered by the source.
SELECT c.id
FROM raw_chatrace.opportunity_comments AS c
JOIN asked USING (opportunity_id)
