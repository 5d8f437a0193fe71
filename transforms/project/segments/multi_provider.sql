-- description: People with their own live contact in 3+ providers (records crmsync made not counted)
-- push: chatman segment "Multi-provider customers"
-- push: dmchamp list list_multi_provider
-- push: whautomate tag "Multi-provider"
-- push: waabot group "Multi-provider customers"
-- push: chatrace tag "multi_provider"
-- Providers count once however many contacts the person has there (Waabot: one per group).
SELECT person_id
FROM crm.people
WHERE len(providers) >= 3
