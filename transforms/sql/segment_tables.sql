-- The history and per-run tables, created on the first run; person_id takes the type the
-- segments return (the model's), so joins to crm.people need no cast.
CREATE TABLE IF NOT EXISTS crm.segment_history AS
SELECT segment, person_id, CAST(NULL AS TIMESTAMPTZ) AS entered_at, CAST(NULL AS TIMESTAMPTZ) AS left_at
FROM _segment_now WHERE false;
CREATE TABLE IF NOT EXISTS crm.segment_runs (
    run_at TIMESTAMPTZ NOT NULL,
    segment VARCHAR NOT NULL,
    size BIGINT NOT NULL,
    entered BIGINT NOT NULL,
    "left" BIGINT NOT NULL
);
