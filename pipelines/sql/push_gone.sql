-- The held memberships whose record or contact was deleted in the provider.
SELECT person_id, contact_id, target_id, membership FROM _push_held WHERE gone ORDER BY person_id, membership;
