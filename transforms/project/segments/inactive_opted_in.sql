-- description: Opted in on their own contact, known 30+ days, nothing done themselves in the 30 days before crm.clock
-- push: chatman segment "Inactive opted-in"
-- push: dmchamp list list_inactive_optin
-- push: whautomate tag "Inactive Opted-in"
-- push: waabot group "Inactive opted-in"
-- push: chatrace tag "inactive_opted_in"
-- Opted in on any provider that has the flag (Chatman whatsapp_opted, Chatrace subscribed).
-- Activity is what the person did (crm.events.actor = 'person': an inbound message, a
-- campaign message read or clicked, a custom event); messages sent to them do not count.
-- People first seen in the last 30 days are too new to call inactive. "Now" is
-- crm.clock.as_of, the newest event in the warehouse.
SELECT p.person_id
FROM crm.people AS p
CROSS JOIN crm.clock AS c
WHERE p.opted_in
  AND p.first_seen < c.as_of - INTERVAL 30 DAY
  AND coalesce(p.last_activity_at < c.as_of - INTERVAL 30 DAY, true)
