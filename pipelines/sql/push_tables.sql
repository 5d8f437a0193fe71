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
    pushed_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS ops.push_log (
    run_id VARCHAR NOT NULL,
    provider VARCHAR NOT NULL,
    segment VARCHAR NOT NULL,
    person_id VARCHAR NOT NULL,
    contact_id VARCHAR,
    operation VARCHAR NOT NULL,  -- add | remove
    status VARCHAR NOT NULL,     -- ok | rejected | held | gone
    error VARCHAR,
    "at" TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS ops.push_runs (
    run_id VARCHAR PRIMARY KEY,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    status VARCHAR NOT NULL,     -- running | ok | failed | killed (found running by a later push)
    added INTEGER,
    removed INTEGER,
    rejected INTEGER,
    held INTEGER
);
