-- Members whose open history row is no longer in the segment (a deleted segment file's
-- members too: nothing is in it any more). They leave now (segment_leave.sql).
SELECT history.segment, history.person_id
FROM crm.segment_history AS history
WHERE history.left_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM _segment_now AS member
                  WHERE member.segment = history.segment AND member.person_id = history.person_id)
