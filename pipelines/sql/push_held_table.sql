-- One target's state for this run (a temporary table: a dry run writes nothing).
-- membership: what identifies the membership in the provider (Waabot: the group record;
-- elsewhere the contact; the person when the client named neither).
-- target_id: the target the row was made in (another id: the target was deleted or made
-- again in the provider under the same name).
-- gone: the warehouse saw that record or contact deleted in the provider, and the
-- membership went with it; there is nothing left to remove.
-- lost: the contact lives but the provider no longer shows the membership (someone took it
-- out, or the target was emptied, deleted or made again): drift.
CREATE OR REPLACE TEMP TABLE _push_held (
    person_id VARCHAR,
    contact_id VARCHAR,
    record_id VARCHAR,
    membership VARCHAR,
    target_id VARCHAR,
    gone BOOLEAN,
    lost BOOLEAN
);
