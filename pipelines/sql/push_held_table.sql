-- One target's state for this run (a temporary table: a dry run writes nothing).
-- membership: what identifies the membership in the provider (Waabot: the group record;
-- elsewhere the contact; the person when the client named neither).
-- gone: the warehouse saw that record or contact deleted in the provider, and the
-- membership went with it; there is nothing left to remove.
CREATE OR REPLACE TEMP TABLE _push_held (
    person_id VARCHAR,
    contact_id VARCHAR,
    record_id VARCHAR,
    membership VARCHAR,
    gone BOOLEAN
);
