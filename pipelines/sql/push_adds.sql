-- The members of _push_desired that no held membership matches: to add. restore: the member
-- had a membership there that the provider lost (drift). A member the target already holds
-- on one of their live contacts although crmsync never added it (made by hand, as the latest
-- sync read it) is left out: it is not crmsync's to add, nor ever to remove; unless an earlier
-- push began adding that member and was killed before recording it (_push_intents): that
-- membership is crmsync's, added again (idempotently) so that it is recorded.
SELECT d.person_id, d.contact_id, d.phone_e164, d.email, d.name,
       EXISTS (SELECT 1 FROM _push_held AS h WHERE h.person_id = d.person_id AND h.lost) AS restore
FROM _push_desired AS d
WHERE d.membership IS NULL
  AND (NOT EXISTS (SELECT 1 FROM crm.contacts AS c JOIN _push_seen AS s ON s.membership = c.contact_id
                  WHERE c.provider = $provider AND c.person_id = d.person_id AND c.deleted_at IS NULL
                    AND s.present)
       OR d.person_id IN (SELECT person_id FROM _push_intents))
ORDER BY d.person_id;
