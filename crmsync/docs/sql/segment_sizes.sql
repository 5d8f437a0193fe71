-- Each segment's size after every transform run, oldest first.
SELECT segment, run_at, size, entered, "left"
FROM crm.segment_runs
ORDER BY segment, run_at;
