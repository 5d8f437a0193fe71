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
-- The data dictionary (kernel/comments.py): crm.segment_members is made again every run.
COMMENT ON TABLE crm.segment_members IS 'Who is in each segment now (the latest transform): one row per segment and person.';
COMMENT ON COLUMN crm.segment_members.segment IS 'The segment: its file name in segments/ without .sql.';
COMMENT ON COLUMN crm.segment_members.person_id IS 'A member (crm.people).';
COMMENT ON TABLE crm.segment_history IS 'Every stay of a person in a segment: a person who leaves and comes back has two rows.';
COMMENT ON COLUMN crm.segment_history.segment IS 'The segment.';
COMMENT ON COLUMN crm.segment_history.person_id IS 'The person (crm.people).';
COMMENT ON COLUMN crm.segment_history.entered_at IS 'The transform run in which the person entered the segment.';
COMMENT ON COLUMN crm.segment_history.left_at IS 'The transform run in which the person left it; NULL while they are in it.';
COMMENT ON TABLE crm.segment_runs IS 'One row per segment and transform run: its size and what changed, even when nothing did.';
COMMENT ON COLUMN crm.segment_runs.run_at IS 'When the transform run that built the segment started.';
COMMENT ON COLUMN crm.segment_runs.segment IS 'The segment.';
COMMENT ON COLUMN crm.segment_runs.size IS 'Members after that run.';
COMMENT ON COLUMN crm.segment_runs.entered IS 'People who entered in that run.';
COMMENT ON COLUMN crm.segment_runs."left" IS 'People who left in that run.';
