-- The records a run read (the registered view `confirmed_now`: resource, record_key), confirmed
-- at $confirmed_at (their earlier rows were removed by confirmed_prune.sql).
INSERT INTO ops.confirmed
SELECT $provider, resource, record_key, $confirmed_at FROM confirmed_now;
