-- A run still 'running' was killed midway: a push runs only as the warehouse's one writer
-- (its lock, and DuckDB's own on the file), so none other is at work now. It is closed as
-- 'killed', finished when this push noticed.
UPDATE ops.push_runs SET status = 'killed', finished_at = $at WHERE status = 'running';
INSERT INTO ops.push_runs (run_id, started_at, status) VALUES ($run_id, $at, 'running');
