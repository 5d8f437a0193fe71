-- The messages already loaded for the contacts whose messages are being read again;
-- `asked` (contact_id) is registered by the source.
SELECT m.id
FROM raw_whautomate.messages AS m
JOIN asked USING (contact_id)
