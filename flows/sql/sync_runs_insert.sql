INSERT INTO ops.sync_runs (run_id, flow, started_at, finished_at, kind, provider, name, status, error,
                           rows_loaded, rows_deleted, segment_size, entered, "left", added, removed,
                           rejected, held)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);
