INSERT INTO ops.push_runs (run_id, started_at, status) VALUES ($run_id, $at, 'running');
