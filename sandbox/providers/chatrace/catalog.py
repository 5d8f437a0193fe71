"""The fixed parts of the emulated Chatrace account: admins, flows, tags, fields, pipelines,
products and order statuses. Everything here is account configuration, not customer data."""

from __future__ import annotations

from crmsync.sandbox.clock import BASE_START_MS

PAGE_ID = 104_729_310
ACCOUNT_NAME = "Acme Store"
ACCOUNT_CREATED_S = BASE_START_MS // 1000
CURRENCY = "USD"  # one currency per account (assumed); amounts are in its cents

CONTACT_ID_BASE = 1_000_000  # contact k has id CONTACT_ID_BASE + k
ORDER_ID_BASE = 10_000_000  # order k has order_id str(ORDER_ID_BASE + k)
NEW_TAG_ID_BASE = 2_001  # tags created through the API
NEW_FIELD_ID_BASE = 4_001  # custom fields created through the API
NEW_COMMENT_ID_BASE = 1_000_000_000  # comments created after the generated history

ADMINS = (
    {"id": 55446561, "email": "amaka.obi@acme-store.test", "first_name": "Amaka", "last_name": "Obi"},
    {"id": 55446562, "email": "david.miller@acme-store.test", "first_name": "David",
     "last_name": "Miller"},
    {"id": 55446563, "email": "priya.iyer@acme-store.test", "first_name": "Priya", "last_name": "Iyer"},
    {"id": 55446564, "email": "kamau.mwangi@acme-store.test", "first_name": "Kamau",
     "last_name": "Mwangi"},
)
ADMIN_IDS = tuple(admin["id"] for admin in ADMINS)
TOKEN_ADMIN = ADMIN_IDS[0]  # the admin the API token belongs to: author of API writes (assumed)

FLOWS = (
    {"id": 11111, "name": "Welcome"},
    {"id": 11112, "name": "Abandoned cart reminder"},
    {"id": 11113, "name": "Order confirmation"},
    {"id": 11114, "name": "Feedback survey"},
)
FLOW_IDS = frozenset(flow["id"] for flow in FLOWS)

# Hand-made tags present in the generated data: (id, name, share of contacts carrying it).
BASE_TAGS = (
    (301, "vip", 0.05),
    (302, "newsletter", 0.30),
    (303, "wholesale", 0.03),
    (304, "returning_customer", 0.15),
    (305, "abandoned_cart", 0.10),
)

# Custom field types (assumed codes; the swagger only says "integer").
TEXT, NUMBER, DATE, DATETIME, BOOLEAN = 0, 1, 2, 3, 4
FIELD_TYPES = frozenset((TEXT, NUMBER, DATE, DATETIME, BOOLEAN))

# Contact custom fields with generated values: (id, name, type, description, share, values).
# A number field's values are range(values).
BASE_FIELDS = (
    (401, "lead_score", NUMBER, "Score from 0 to 100 set by the qualification flow", 0.70, 101),
    (402, "source", TEXT, "Where the contact first came from", 0.80,
     ("facebook_ad", "instagram", "website", "referral", "whatsapp_link")),
    (403, "loyalty_tier", TEXT, "Loyalty programme tier", 0.30, ("bronze", "silver", "gold")),
)

# Bot fields: account-wide values (id, name, type, value).
BOT_FIELDS = (
    (501, "store_open", BOOLEAN, True),
    (502, "support_hours", TEXT, "09:00-17:00"),
    (503, "free_shipping_threshold", NUMBER, 5000),
)

# Pipelines: (id, name, mean opportunities per contact, stages, title template).
# The last stage is where won deals end.
PIPELINES = (
    (7001, "Sales", 0.60,
     ((8101, "New lead"), (8102, "Qualified"), (8103, "Proposal sent"), (8104, "Negotiation"),
      (8105, "Closed")),
     "Deal: {product}"),
    (7002, "Support tickets", 0.35,
     ((8201, "New"), (8202, "In progress"), (8203, "Waiting on customer"), (8204, "Resolved")),
     "Ticket: {issue}"),
    (7003, "Onboarding", 0.25,
     ((8301, "Signed up"), (8302, "Kickoff call"), (8303, "Setup"), (8304, "Training"),
      (8305, "Live"), (8306, "Done")),
     "Onboarding {name}"),
)
PIPELINE_FIELDS = {
    7001: ({"id": 9501, "name": "expected_close", "type": "date", "description": "Expected close date"},
           {"id": 9502, "name": "discount", "type": "number", "description": "Discount offered (%)"}),
    7002: ({"id": 9511, "name": "category", "type": "text", "description": "Ticket category"},),
    7003: ({"id": 9521, "name": "plan", "type": "text", "description": "Chosen plan"},
           {"id": 9522, "name": "seats", "type": "number", "description": "Number of seats"}),
}
ISSUES = ("late delivery", "wrong size", "refund request", "payment failed", "damaged item",
          "login problem", "change address")
COMMENTS = ("Called, no answer.", "Sent the price list on WhatsApp.", "Customer asked for a discount.",
            "Follow up next week.", "Waiting for payment confirmation.", "Escalated to the manager.",
            "Customer is happy with the offer.", "Shared the tracking link.")

# Order statuses (assumed codes beyond the swagger's 6/7/10/13): 0 is an open cart.
OPEN_CART, AWAITING_PAYMENT, PAID, DELIVERED, CANCELLED = 0, 6, 7, 10, 13
SETTABLE_STATUSES = frozenset((AWAITING_PAYMENT, PAID, DELIVERED, CANCELLED))
FINAL_STATUSES = frozenset((DELIVERED, CANCELLED))
# What a status becomes when an order moves on by itself (churn).
NEXT_STATUSES = {OPEN_CART: (AWAITING_PAYMENT,), AWAITING_PAYMENT: (PAID, CANCELLED), PAID: (DELIVERED,)}
COUPONS = {"WELCOME10": 10, "VIP20": 20}  # percent off the subtotal

# Product catalogue: (name, category, price in cents).
PRODUCTS = (
    ("Ankara print dress", "Clothing", 4500), ("Linen shirt", "Clothing", 3200),
    ("Leather sandals", "Shoes", 5400), ("Running shoes", "Shoes", 8900),
    ("Shea butter 250 ml", "Beauty", 1200), ("Black soap", "Beauty", 650),
    ("Wireless earbuds", "Electronics", 5900), ("Phone charger", "Electronics", 1500),
    ("Power bank 10000 mAh", "Electronics", 3500), ("Coffee beans 1 kg", "Groceries", 2400),
    ("Hibiscus tea", "Groceries", 800), ("Woven basket", "Home", 2800),
    ("Scented candle", "Home", 1100), ("Beaded necklace", "Accessories", 1900),
    ("Canvas tote bag", "Accessories", 1300), ("Sunglasses", "Accessories", 2600),
)
PRODUCT_ID_BASE = 9001
CATEGORY_IDS = {name: 600 + i for i, name in enumerate(dict.fromkeys(p[1] for p in PRODUCTS))}
