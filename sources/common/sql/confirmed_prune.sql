-- Forget the confirmations of one resource's records that are no longer candidates (the
-- registered view `candidates_now`): deleted, or gone from the warehouse.
DELETE FROM ops.confirmed
WHERE provider = $provider AND resource = $resource
  AND record_key NOT IN (SELECT record_key FROM candidates_now);
