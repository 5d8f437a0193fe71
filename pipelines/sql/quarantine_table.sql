-- What syncs set aside (sources/common/records.py, SetAside), where an analyst can see it: a
-- record not loaded (`loaded` false: not a JSON object, no key) or loaded with a value cut or
-- nulled for its size (`loaded` true), with the start of the record's JSON text. The full
-- count of each reason is in the run's `problems`; at most 100 records a reason and table are
-- kept per run.
CREATE SCHEMA IF NOT EXISTS ops;
CREATE TABLE IF NOT EXISTS ops.quarantine (
    provider VARCHAR NOT NULL,
    table_name VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,
    record_key VARCHAR,
    loaded BOOLEAN NOT NULL,
    raw VARCHAR NOT NULL,
    raw_bytes BIGINT NOT NULL,
    noticed_at TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE ops.quarantine IS 'Records a sync set aside: not loaded (not a JSON object, no key) or loaded with a value cut or nulled for its size; up to 100 a reason and table per run.';
COMMENT ON COLUMN ops.quarantine.provider IS 'The provider the record came from.';
COMMENT ON COLUMN ops.quarantine.table_name IS 'The raw table it was meant for.';
COMMENT ON COLUMN ops.quarantine.reason IS '"<column>: <what>", as counted in the sync''s problems.';
COMMENT ON COLUMN ops.quarantine.record_key IS 'The record''s key, when it has one.';
COMMENT ON COLUMN ops.quarantine.loaded IS 'True: loaded, with the value cut or nulled; false: not loaded.';
COMMENT ON COLUMN ops.quarantine.raw IS 'The record''s JSON text, its first 10,000 bytes.';
COMMENT ON COLUMN ops.quarantine.raw_bytes IS 'The length of its whole JSON text.';
COMMENT ON COLUMN ops.quarantine.noticed_at IS 'When a sync first set it aside.';
