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
