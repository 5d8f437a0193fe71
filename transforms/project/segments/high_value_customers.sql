-- description: Paid or delivered Chatrace orders adding up to 100 or more in one currency
-- push: chatman segment "High value customers"
-- push: dmchamp list list_high_value
-- push: whautomate tag "High Value Customer"
-- push: waabot group "High value customers"
-- push: chatrace tag "high_value_customer"
-- Orders are Chatrace's (the only provider with orders); carts, orders awaiting payment and
-- cancelled ones do not count. Totals are per currency: amounts in different currencies
-- are never added together.
SELECT DISTINCT person_id
FROM crm.orders
WHERE status_name IN ('paid', 'delivered')
  AND deleted_at IS NULL
  AND person_id IS NOT NULL
GROUP BY person_id, currency
HAVING sum(total) >= 100
