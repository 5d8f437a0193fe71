-- Members with no open history row enter now; one who left before gets a new row.
INSERT INTO crm.segment_history (segment, person_id, entered_at, left_at)
SELECT member.segment, member.person_id, $run_at, NULL
FROM _segment_now AS member
WHERE NOT EXISTS (SELECT 1 FROM crm.segment_history AS history
                  WHERE history.left_at IS NULL
                    AND history.segment = member.segment AND history.person_id = member.person_id)
RETURNING segment
