-- Forget the confirmations of one resource's records that are no longer candidates (the
-- registered view `candidates_now`): deleted, or gone from the warehouse; and those about to
-- be confirmed again (`confirmed_now`), which confirmed_save.sql writes anew.
DELETE FROM ops.confirmed
WHERE provider = $provider AND resource = $resource
  AND (record_key NOT IN (SELECT record_key FROM candidates_now)
       OR record_key IN (SELECT record_key FROM confirmed_now));
