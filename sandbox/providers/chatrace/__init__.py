"""Chatrace emulator (CONTRACT.md section 5, docs/chatrace-swagger.md).

Mounted at /chatrace; auth header X-ACCESS-TOKEN; every error is
`{"error": {"code": <status>, "message": "..."}}`.

Decisions the contract leaves open, marked (assumed):
- Ids: contact k is 1_000_000 + k; opportunity k of pipeline i (0-based) is
  10_000_000 * (i + 1) + k; generated comment i of opportunity o is o * 10 + i, comments
  created later count up from 1_000_000_000; order k's order_id is the string 10_000_000 + k.
- Contact codes: channel 5 WhatsApp, 0 Messenger, 1 Instagram; gender 1 male, 2 female,
  0 unknown; timezone whole hours from UTC; custom field types 0 text, 1 number, 2 date,
  3 datetime, 4 boolean. A contact whose person has a secondary phone and is also in
  Chatman or Whautomate carries the secondary phone (and still the email).
- find_by_custom_field: phone matched on its digits (country code included), email and
  custom field values as trimmed text ignoring case; most recently updated contact first (the
  swagger's "last custom field value update", approximated by the contact's last change); an
  unknown custom field id is a 400. Contacts are never listed.
- POST /contacts: phone (8+ digits) required; a phone Chatrace already has returns that
  contact, after running the actions; the answer is the contact. add_tag creates a missing
  tag; an unknown field name, flow or action is a 400 and nothing is written.
- POST /accounts/custom_fields: type defaults to 0 (text); a duplicate name (ignoring case)
  or an unknown type is a 400.
- Tag names are unique ignoring case (duplicate -> 400) and found by name ignoring case.
  Adding a tag a contact has, or removing one it lacks, succeeds and changes nothing.
  Deleting an account tag takes it off every contact.
- Contact custom field GET of a field the contact has no value for: value null. Number
  fields refuse non-numbers, boolean fields anything but true/false/1/0/yes/no (400).
- Paging: limit defaults to 100 and is capped at 100; offset < 0 or limit < 1 is a 400.
  Opportunities are ordered by id, comments oldest first. contact_id of nobody gives an
  empty page. The pipeline list answers with and without the trailing slash.
- Opportunity create needs contact_id (404 when unknown) and title; defaults: first stage,
  status open, priority low, value 0. custom_fields is accepted and not kept (the read
  model has none). Writes are authored by the token's admin (created_by/updated_by).
  Adding a comment does not change the opportunity's updated_at.
- Orders: status 0 open cart, 6 awaiting payment, 7 paid, 10 delivered (final),
  13 cancelled (final); changing a final order's status is a 400. Amounts are in cents of
  the account currency (USD). GET cart is the contact's latest order, or an empty cart
  (order_id null, total 0) for a contact who never ordered. Adding a product when the latest
  order is not an open cart starts a new order. DELETE cart empties an open cart and is a
  no-op otherwise; removing a product not in the open cart is a 404. Paying an order that
  is not open or awaiting payment is a 402. Products: sale_price 0 means not on sale; POST
  accepts active/stock/price, and an inactive product cannot be added to a cart (400).
- Form fields are read from application/x-www-form-urlencoded bodies only.
- An unknown path, or a known path with another method, is a 404 in the error shape.
- Deleting a contact (churn only: the API cannot) deletes its opportunities and orders.
- Sends (flow, text, file, content, products) validate and answer success; messages are not
  emulated. Template links are made for any template id.
"""

from crmsync.sandbox.providers.chatrace.provider import Chatrace

__all__ = ["Chatrace"]
