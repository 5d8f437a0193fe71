-- materialized: view
-- Chatrace orders (carts included: status 0). Chatrace gives amounts in cents, i.e. the
-- currency's minor unit: divided by 10^(ISO 4217 exponent), 2 for most currencies, 0 for
-- those with no minor unit (JPY, XOF, ...) and 3 for the dinars (KWD, BHD, ...). Status names
-- and finality as configured (staging.chatrace_order_statuses; by default 0 cart, 6
-- awaiting_payment, 7 paid, 10 delivered, 13 cancelled, 10 and 13 final); a code with no name
-- is status_<code>. line_items stay the JSON Chatrace gives: their prices are in cents.
WITH orders AS (
    SELECT
        *,
        CASE
            WHEN upper(currency) IN ('BIF', 'CLP', 'DJF', 'GNF', 'ISK', 'JPY', 'KMF', 'KRW', 'PYG',
                                     'RWF', 'UGX', 'UYI', 'VND', 'VUV', 'XAF', 'XOF', 'XPF') THEN 1.000
            WHEN upper(currency) IN ('BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND') THEN 0.001
            ELSE 0.010
        END AS minor_unit  -- a decimal: multiplying keeps the amounts exact
    FROM raw_chatrace.orders
)
SELECT
    'chatrace' AS provider,
    order_id,
    CAST(contact_id AS VARCHAR) AS contact_id,
    o.status,
    coalesce(s.name, 'status_' || o.status) AS status_name,
    coalesce(s.final, false) AS status_final,
    upper(currency) AS currency,
    CAST(total * minor_unit AS DECIMAL(18, 3)) AS total,
    CAST(subtotal * minor_unit AS DECIMAL(18, 3)) AS subtotal,
    CAST(coupon_discount * minor_unit AS DECIMAL(18, 3)) AS coupon_discount,
    total_items,
    coupon,
    coalesce(try_cast(line_items AS JSON), '[]'::JSON) AS line_items,
    created_at,
    updated_at,
    deleted_at
FROM orders AS o
LEFT JOIN staging.chatrace_order_statuses AS s ON s.status = o.status
