-- description: An open Chatrace deal with no reply for 7 days: last touched 7 to 30 days before crm.clock
-- push: chatman segment "Stalled deals"
-- push: dmchamp list list_stalled_deals
-- push: whautomate tag "Stalled Deal"
-- push: waabot group "Stalled deals"
-- push: chatrace tag "stalled_deal"
-- A deal's last touch is the latest of its update, its last comment and the last thing the
-- person did themselves (crm.people.last_activity_at). "Now" is crm.clock.as_of, the newest
-- event in the warehouse (the sandbox's generated history ends 2026-06-01, long before the
-- real clock). Open deals untouched for more than 30 days are dead rather than stalled:
-- without that bound nearly every open deal of a long history would be in the segment.
SELECT DISTINCT o.person_id
FROM crm.opportunities AS o
JOIN crm.people AS p ON p.person_id = o.person_id
CROSS JOIN crm.clock AS c
WHERE o.status = 'open'
  AND o.deleted_at IS NULL
  AND greatest(o.updated_at, o.last_comment_at, p.last_activity_at)
      BETWEEN c.as_of - INTERVAL 30 DAY AND c.as_of - INTERVAL 7 DAY
