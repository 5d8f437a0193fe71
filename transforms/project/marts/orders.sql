-- materialized: table
-- crm.orders: Chatrace's orders and carts, money as decimals in the currency's unit, with
-- the contact's person.
SELECT
    'chatrace' AS provider,
    o.order_id,
    c.person_id,
    o.contact_id,
    o.status,
    o.status_name,
    o.currency,
    o.total,
    o.subtotal,
    o.coupon_discount,
    o.total_items,
    o.coupon,
    o.line_items,
    o.created_at,
    o.updated_at,
    o.deleted_at
FROM staging.chatrace_orders AS o
LEFT JOIN crm.contacts AS c ON c.provider = 'chatrace' AND c.contact_id = o.contact_id
