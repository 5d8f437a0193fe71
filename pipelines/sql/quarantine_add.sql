-- This run's set-aside records ($provider, registered as `set_aside`). A record a later run
-- reads again (a full scan does, every day) keeps the row of its first notice.
INSERT INTO ops.quarantine
SELECT DISTINCT $provider, s.table_name, s.reason, s.record_key, s.loaded, s.raw, s.raw_bytes, $noticed_at
FROM set_aside AS s
WHERE NOT EXISTS (SELECT 1 FROM ops.quarantine AS q
                  WHERE q.provider = $provider AND q.table_name = s.table_name AND q.reason = s.reason
                    AND q.raw = s.raw);
