-- The push's state and audit. ops.push_state holds what crmsync has pushed and the provider
-- confirmed, one row per membership it made (Waabot: per group record it created).
CREATE SCHEMA IF NOT EXISTS ops;
CREATE TABLE IF NOT EXISTS ops.push_state (
    provider VARCHAR NOT NULL,
    segment VARCHAR NOT NULL,
    target_id VARCHAR NOT NULL,
    person_id VARCHAR NOT NULL,
    contact_id VARCHAR,
    record_id VARCHAR,
    pushed_at TIMESTAMPTZ NOT NULL,
    -- The header line's target (`chatman segment "High value"`): rows of an earlier id of the
    -- same target show it was deleted or made again in the provider.
    target VARCHAR
);
-- Added to older warehouses (a new one has it from the start: a DuckLake table whose column
-- was added after it was created cannot read its inlined rows back).
ALTER TABLE ops.push_state ADD COLUMN IF NOT EXISTS target VARCHAR;
CREATE TABLE IF NOT EXISTS ops.push_log (
    run_id VARCHAR NOT NULL,
    provider VARCHAR NOT NULL,
    segment VARCHAR NOT NULL,
    person_id VARCHAR NOT NULL,
    contact_id VARCHAR,
    operation VARCHAR NOT NULL,  -- add | restore (drift put back) | resend (--full-resync) | remove
    status VARCHAR NOT NULL,     -- ok | rejected | held | gone | lost | reported (drift, push.on_drift = report)
    error VARCHAR,
    "at" TIMESTAMPTZ NOT NULL
);
-- The adds about to be sent, written before they are (a write-ahead record): a push killed
-- after the provider made a membership but before its state row was written leaves the
-- member here, so the next push knows that membership is crmsync's, not made by hand, and
-- adds it again (adds are idempotent) instead of leaving it out. Cleared as outcomes arrive.
CREATE TABLE IF NOT EXISTS ops.push_intents (
    provider VARCHAR NOT NULL,
    segment VARCHAR NOT NULL,
    person_id VARCHAR NOT NULL,
    run_id VARCHAR NOT NULL,
    "at" TIMESTAMPTZ NOT NULL
);
-- run_id is a fresh uuid per push, unique by construction: no key constraint, which a
-- DuckLake table cannot have.
CREATE TABLE IF NOT EXISTS ops.push_runs (
    run_id VARCHAR NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    status VARCHAR NOT NULL,     -- running | ok | failed | killed (found running by a later push)
    added INTEGER,
    removed INTEGER,
    rejected INTEGER,
    held INTEGER
);
