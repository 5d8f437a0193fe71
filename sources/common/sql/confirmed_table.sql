-- ops.confirmed: per provider, resource and record, when a sync last read it from the
-- provider (changed or not). The budgeted providers refresh the stalest first from it, and
-- `crmsync status` shows how stale each resource is.
CREATE SCHEMA IF NOT EXISTS ops;
CREATE TABLE IF NOT EXISTS ops.confirmed (
    provider VARCHAR NOT NULL,
    resource VARCHAR NOT NULL,
    record_key VARCHAR NOT NULL,
    confirmed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (provider, resource, record_key)
);
