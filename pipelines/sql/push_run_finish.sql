UPDATE ops.push_runs
SET finished_at = $at, status = $status, added = $added, removed = $removed, rejected = $rejected, held = $held
WHERE run_id = $run_id;
