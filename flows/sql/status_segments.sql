-- Each segment's latest size and change (written by transform).
SELECT segment, arg_max(size, run_at) AS size, arg_max(entered, run_at) AS entered,
       arg_max("left", run_at) AS "left", max(run_at) AS built_at
FROM crm.segment_runs
GROUP BY segment
ORDER BY segment;
