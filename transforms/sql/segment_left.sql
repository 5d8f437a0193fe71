-- Members whose open history row is no longer in the segment leave now (a deleted segment
-- file's members leave too: nothing is in it any more).
UPDATE crm.segment_history AS history
SET left_at = $run_at
WHERE history.left_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM _segment_now AS member
                  WHERE member.segment = history.segment AND member.person_id = history.person_id)
RETURNING history.segment
