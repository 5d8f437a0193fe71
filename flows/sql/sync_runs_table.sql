-- One row per figure of a flow run, so an analyst can ask freshness and history in SQL:
--   kind 'run'     the run itself (provider/name empty; status = the run's state)
--   kind 'table'   rows loaded and marked deleted in one provider table (status: failed when
--                  the provider failed or the table's resource failed alone, with its error)
--   kind 'segment' a segment's size and change
--   kind 'push'    one segment's push to one provider: added, removed, rejected, held
-- Freshness of a table = max(finished_at) of its kind 'table' rows with status 'ok'.
CREATE SCHEMA IF NOT EXISTS ops;
CREATE TABLE IF NOT EXISTS ops.sync_runs (
    run_id VARCHAR NOT NULL,
    flow VARCHAR NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ NOT NULL,
    kind VARCHAR NOT NULL,
    provider VARCHAR,
    name VARCHAR,
    status VARCHAR NOT NULL,
    error VARCHAR,
    rows_loaded BIGINT,
    rows_deleted BIGINT,
    segment_size BIGINT,
    entered BIGINT,
    "left" BIGINT,
    added BIGINT,
    removed BIGINT,
    rejected BIGINT,
    held BIGINT
);
COMMENT ON TABLE ops.sync_runs IS 'One row per figure of a flow run (kind run, table, segment, push): freshness and history in SQL.';
COMMENT ON COLUMN ops.sync_runs.run_id IS 'The flow run.';
COMMENT ON COLUMN ops.sync_runs.flow IS 'The flow (crmsync-run, crmsync-sync...).';
COMMENT ON COLUMN ops.sync_runs.started_at IS 'When the flow run started.';
COMMENT ON COLUMN ops.sync_runs.finished_at IS 'When it finished; a table''s freshness is the latest finished_at of its ok table rows.';
COMMENT ON COLUMN ops.sync_runs.kind IS 'run (the run itself), table (one provider table), segment, or push (one segment to one provider).';
COMMENT ON COLUMN ops.sync_runs.provider IS 'The provider (table and push rows).';
COMMENT ON COLUMN ops.sync_runs.name IS 'The table or segment.';
COMMENT ON COLUMN ops.sync_runs.status IS 'The run''s state (run rows), the provider''s sync status (table rows), the push''s (push rows).';
COMMENT ON COLUMN ops.sync_runs.error IS 'What failed, in one line; NULL when nothing did.';
COMMENT ON COLUMN ops.sync_runs.rows_loaded IS 'Rows loaded into the table (table rows).';
COMMENT ON COLUMN ops.sync_runs.rows_deleted IS 'Rows newly marked deleted (table rows).';
COMMENT ON COLUMN ops.sync_runs.segment_size IS 'The segment''s size (segment rows).';
COMMENT ON COLUMN ops.sync_runs.entered IS 'People who entered the segment (segment rows).';
COMMENT ON COLUMN ops.sync_runs."left" IS 'People who left the segment (segment rows).';
COMMENT ON COLUMN ops.sync_runs.added IS 'Memberships added (push rows).';
COMMENT ON COLUMN ops.sync_runs.removed IS 'Memberships removed (push rows).';
COMMENT ON COLUMN ops.sync_runs.rejected IS 'Changes the provider rejected (push rows).';
COMMENT ON COLUMN ops.sync_runs.held IS 'Removals held by the mass-removal guard (push rows).';
