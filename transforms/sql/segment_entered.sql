-- Members with no open history row: they enter now (segment_enter.sql); one who left before
-- gets a new row.
SELECT member.segment, member.person_id
FROM _segment_now AS member
WHERE NOT EXISTS (SELECT 1 FROM crm.segment_history AS history
                  WHERE history.left_at IS NULL
                    AND history.segment = member.segment AND history.person_id = member.person_id)
