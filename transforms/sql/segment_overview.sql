-- Each segment's latest run: size and what changed then.
SELECT segment, arg_max(size, run_at), arg_max(entered, run_at), arg_max("left", run_at), max(run_at)
FROM crm.segment_runs
GROUP BY segment
