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
    operation VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    error VARCHAR,
    "at" TIMESTAMPTZ NOT NULL
);
-- The adds about to be sent, written before they are (a write-ahead record): a push killed
-- after the provider made a membership but before its state row was written leaves the
-- member here, so the next push knows that membership is crmsync's, not made by hand, and
-- adds it again (adds are idempotent) instead of leaving it out. Cleared as outcomes arrive.
-- Provenance: the provider records the push itself created (a DM Champ contact for a person
-- DM Champ did not have, a Waabot group record), one row per record, never deleted. The next
-- sync reads them back like any record; the transforms mark them (crm.contacts
-- .created_by_crmsync) and do not count them as the person being in that provider.
CREATE TABLE IF NOT EXISTS ops.created_records (
    provider VARCHAR NOT NULL,
    contact_id VARCHAR NOT NULL,
    person_id VARCHAR NOT NULL,
    segment VARCHAR NOT NULL,
    run_id VARCHAR NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
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
    status VARCHAR NOT NULL,
    added INTEGER,
    removed INTEGER,
    rejected INTEGER,
    held INTEGER
);
-- The data dictionary (kernel/comments.py).
COMMENT ON TABLE ops.push_state IS 'What crmsync has pushed and the provider confirmed: one row per membership it made (Waabot: per group record it created).';
COMMENT ON COLUMN ops.push_state.provider IS 'The provider pushed to.';
COMMENT ON COLUMN ops.push_state.segment IS 'The segment (crm.segment_members).';
COMMENT ON COLUMN ops.push_state.target_id IS 'The id of the provider-side target (segment, list, tag or group) the membership was made in.';
COMMENT ON COLUMN ops.push_state.person_id IS 'The member (crm.people).';
COMMENT ON COLUMN ops.push_state.contact_id IS 'The provider contact the membership was given to.';
COMMENT ON COLUMN ops.push_state.record_id IS 'The provider record crmsync created for it (Waabot group records); NULL elsewhere.';
COMMENT ON COLUMN ops.push_state.pushed_at IS 'When the provider confirmed it.';
COMMENT ON COLUMN ops.push_state.target IS 'The segment header''s target (chatman segment "High value"): rows of an earlier target_id show it was deleted or made again in the provider.';
COMMENT ON TABLE ops.push_log IS 'Every change a push made or tried, per provider, segment and person: the audit of what crmsync did in the providers.';
COMMENT ON COLUMN ops.push_log.run_id IS 'The push run (ops.push_runs).';
COMMENT ON COLUMN ops.push_log.provider IS 'The provider pushed to.';
COMMENT ON COLUMN ops.push_log.segment IS 'The segment.';
COMMENT ON COLUMN ops.push_log.person_id IS 'The person (crm.people).';
COMMENT ON COLUMN ops.push_log.contact_id IS 'The provider contact, when one was known.';
COMMENT ON COLUMN ops.push_log.operation IS 'add | restore (drift put back) | resend (--full-resync) | remove.';
COMMENT ON COLUMN ops.push_log.status IS 'ok | rejected | held (mass-removal guard) | gone (contact deleted) | lost (drift) | reported (drift, push.on_drift = report).';
COMMENT ON COLUMN ops.push_log.error IS 'Why the provider rejected it (scrubbed of secrets); NULL otherwise.';
COMMENT ON COLUMN ops.push_log."at" IS 'When.';
COMMENT ON TABLE ops.created_records IS 'Provenance: the provider records a push itself created (a DM Champ contact for a person DM Champ did not have, a Waabot group record), one row per record, never deleted.';
COMMENT ON COLUMN ops.created_records.provider IS 'The provider the record was created in.';
COMMENT ON COLUMN ops.created_records.contact_id IS 'The record''s id as the provider''s staging contacts know it.';
COMMENT ON COLUMN ops.created_records.person_id IS 'Who it was made for (crm.people).';
COMMENT ON COLUMN ops.created_records.segment IS 'The segment whose push created it.';
COMMENT ON COLUMN ops.created_records.run_id IS 'The push run (ops.push_runs).';
COMMENT ON COLUMN ops.created_records.created_at IS 'When the provider confirmed it.';
COMMENT ON TABLE ops.push_intents IS 'Adds about to be sent (write-ahead): a push killed midway leaves them, so the next push knows those memberships are crmsync''s.';
COMMENT ON COLUMN ops.push_intents.provider IS 'The provider.';
COMMENT ON COLUMN ops.push_intents.segment IS 'The segment.';
COMMENT ON COLUMN ops.push_intents.person_id IS 'The person about to be added.';
COMMENT ON COLUMN ops.push_intents.run_id IS 'The push run that wrote it.';
COMMENT ON COLUMN ops.push_intents."at" IS 'When it was written.';
COMMENT ON TABLE ops.push_runs IS 'One row per push run: when, how it ended and its totals.';
COMMENT ON COLUMN ops.push_runs.run_id IS 'The push run.';
COMMENT ON COLUMN ops.push_runs.started_at IS 'When it started.';
COMMENT ON COLUMN ops.push_runs.finished_at IS 'When it finished; NULL while running (or killed).';
COMMENT ON COLUMN ops.push_runs.status IS 'running | ok | failed | killed (found running by a later push).';
COMMENT ON COLUMN ops.push_runs.added IS 'Memberships added.';
COMMENT ON COLUMN ops.push_runs.removed IS 'Memberships removed.';
COMMENT ON COLUMN ops.push_runs.rejected IS 'Changes the providers rejected.';
COMMENT ON COLUMN ops.push_runs.held IS 'Removals the mass-removal guard held back.';
