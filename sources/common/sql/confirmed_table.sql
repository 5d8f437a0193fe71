-- ops.confirmed: per provider, resource and record, when a sync last read it from the
-- provider (changed or not). The budgeted providers refresh the stalest first from it, and
-- `crmsync status` shows how stale each resource is. No key constraint (a DuckLake has none):
-- confirmed_prune.sql removes a record's row before confirmed_save.sql writes it again.
CREATE SCHEMA IF NOT EXISTS ops;
CREATE TABLE IF NOT EXISTS ops.confirmed (
    provider VARCHAR NOT NULL,
    resource VARCHAR NOT NULL,
    record_key VARCHAR NOT NULL,
    confirmed_at TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE ops.confirmed IS 'When a sync last read each record of the providers re-checked record by record (within their run budget): the stalest are refreshed first; crmsync status shows the oldest and median.';
COMMENT ON COLUMN ops.confirmed.provider IS 'The provider.';
COMMENT ON COLUMN ops.confirmed.resource IS 'What was re-checked (e.g. tags, messages, contacts).';
COMMENT ON COLUMN ops.confirmed.record_key IS 'The record, as the provider keys it (a contact id).';
COMMENT ON COLUMN ops.confirmed.confirmed_at IS 'When a sync last read it from the provider, changed or not.';
