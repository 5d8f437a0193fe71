-- Close the open history rows of the members who left (_segment_left, from segment_left.sql).
-- Chosen first and changed after: a DuckLake table takes no UPDATE ... RETURNING.
UPDATE crm.segment_history AS history
SET left_at = $run_at
FROM _segment_left AS gone
WHERE history.left_at IS NULL
  AND history.segment = gone.segment AND history.person_id = gone.person_id
