-- Open a history row for each member who entered (_segment_entered, from segment_entered.sql).
INSERT INTO crm.segment_history (segment, person_id, entered_at, left_at)
SELECT segment, person_id, $run_at, NULL FROM _segment_entered
