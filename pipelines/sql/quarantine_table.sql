-- What syncs set aside (sources/common/records.py, SetAside), where an analyst can see it: a
-- record not loaded (`loaded` false: not a JSON object, no key) or loaded with a value cut or
-- nulled for its size (`loaded` true), with the start of the record's JSON text. The full
-- count of each reason is in the run's `problems`; at most 100 records a reason and table are
-- kept per run.
CREATE SCHEMA IF NOT EXISTS ops;
CREATE TABLE IF NOT EXISTS ops.quarantine (
    provider VARCHAR NOT NULL,
    table_name VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,    -- "<column>: <what>", as counted in problems
    record_key VARCHAR,         -- the record's key, when it has one
    loaded BOOLEAN NOT NULL,
    raw VARCHAR NOT NULL,       -- the record's JSON text, its first 10,000 bytes
    raw_bytes BIGINT NOT NULL,  -- the length of its whole JSON text
    noticed_at TIMESTAMPTZ NOT NULL
);
