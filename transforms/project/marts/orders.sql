-- materialized: table
-- crm.orders: every provider's orders and carts (staging.<provider>_orders; Chatrace's
-- today), money as decimals in the currency's unit, with the contact's person.
SELECT
    o.provider,
    o.order_id,
    c.person_id,
    o.contact_id,
    o.status,
    o.status_name,
    o.status_final,
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
FROM staging."*_orders" AS o
LEFT JOIN crm.contacts AS c ON c.provider = o.provider AND c.contact_id = o.contact_id
