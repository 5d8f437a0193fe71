"""Chatman emulator (CONTRACT.md section 1, docs/chatman.md): contacts, events, segments.

Mounted at /chatman/v1/public-apis. Modules: `api` (routes, auth, admin hooks), `paging`
(errors, cursors, envelope), `contacts`, `events` (event types, triggered and campaign
events), `segments` (segments and journeys).

Behaviour the docs and the contract leave open, decided here:
- Auth `Authorization: Bearer <key>`; no header -> 401 "Authentication credentials were not
  provided.", a wrong one -> 401 "Invalid API key.", both with `WWW-Authenticate: Bearer`
  (assumed, Django REST framework style like the `{"detail"}` errors and the envelope).
  Errors are `{"detail": "..."}`: 404 "Not found." (also for unknown paths, including a
  missing trailing slash), 405 'Method "X" not allowed.', 400 for bad input (assumed).
- Lists answer `{"count", "next", "results"}`; `count` is the total matching the filters,
  `next` an opaque urlsafe-base64 cursor holding the listing, the mode and the last key.
  The client repeats the filters with `after`; a cursor from another listing or mode -> 400
  "Invalid cursor." `limit` outside 1..1000 or not an integer -> 400 (assumed).
- `GET /contacts/`: `mode=all` (default) lists every contact by `created_at` and ignores
  `start_time`/`end_time`; `new` filters and orders on `created_at`, `modified` on
  `modified_at`; ties by `user_id`; keyset paging, so a contact modified while a client
  pages `mode=modified` moves to the end and is seen again (assumed). Bad ISO time or mode
  -> 400.
- Contact fields as in the contract; `country_code` is "+234"-shaped for generated records,
  `phone_number` is national digits, trunk + national ("08031234567") or spaced
  ("+234 803 123 4567"); `wa_id` is always digits. Writes keep the shapes the client sent
  (assumed). `email` is null for people without one; `custom_attributes` keys vary between
  contacts (`loyalty_tier`, `source`, `lifetime_value`, `preferred_language`);
  `external_customer_id` is "ext-<n>" for about 60% of generated contacts, else null.
- `GET /contacts/details/?wa_ids=` takes at most 100 distinct ids (more, or none -> 400);
  unknown ones are simply absent; results follow the request order (assumed).
- `POST /contacts/` -> 201 with the contact. Required: `phone_number`, `country_code`
  (calling code, "+" optional), `system_attributes.first_name` and `.email` (a valid
  address); unknown system attributes, wrong types, a bad `date_of_birth` -> 400. The
  `wa_id` is the phone parsed in the country of `country_code` (trunk prefix dropped);
  an existing `wa_id` or an `external_customer_id` held by another contact -> 409 (assumed).
  `whatsapp_opted` defaults to false (assumed).
- `POST /contacts/update/` -> 200 with the contact; unknown `wa_id` -> 404; system and custom
  attributes are merged key by key (a custom attribute set to null is removed),
  `user_tags` and `external_customer_id` are replaced; `modified_at` is bumped (assumed).
- `POST /contacts/check/` -> `{"wa_id", "valid"}` where valid is the phonenumbers library's
  verdict; an unreadable number keeps its digits and is invalid (assumed).
- Segments: four made by people in the CRM ("VIP (manual)" and "Win-back Q1" static,
  "Newsletter" and "Lagos shoppers" live), each a hashed share of the generated contacts.
  `GET /segments/` orders by `created_at` then `segment_id`; `search_key` is a
  case-insensitive substring of the name; bad `segment_type` -> 400 (assumed).
  `POST /segments/` -> 201 with a "live" segment; each user is found by the first of
  `user_id`, `wa_id`, `email`, `external_customer_id` it carries; people not found are
  skipped; a malformed entry or a name already used -> 400 (assumed).
- `POST /segments/{id}/evaluate/` -> current members by contact creation order.
  Subscribe/unsubscribe: at most 1000 user_ids (more -> 400); any unknown or deleted
  user_id -> 400 "Unknown user_id(s): ..." and nothing is applied; else the number of
  memberships that actually changed (assumed). Unknown segment -> 404. Deleted contacts
  leave every segment.
- Custom event types: four exist ("order_placed", "cart_abandoned", "appointment_booked",
  "form_submitted"), using every attribute type. `GET /events/custom/` is a paged list
  of `{"event_name", "attributes", "created_at"}`; `POST` -> 201, a duplicate name or an
  unknown attribute type -> 400 (assumed).
- Triggered events: about two per generated contact, each owned by a contact that existed
  when it fired; ordered by `triggered_at` then `event_id`. `POST /events/custom/trigger/`
  -> 201 with the event stamped now; unknown event_name, unknown user, an attribute the
  type does not declare or of the wrong type -> 400 (assumed). Events stay when their
  contact is deleted (assumed).
- `GET /events/users/{user_id}/` pages the triggered custom events of one live contact
  (campaign events are not included); unknown or deleted user -> 404 (assumed).
- `GET /events/campaigns/{id}/`: the ids are `CAMPAIGN_IDS` (the same for every seed, as
  they come from configuration); others -> 404. Each campaign was sent to a share of the
  contacts existing then: `sent`, then `delivered` or `failed`, then `read`, `clicked`,
  ordered by `occurred_at`; no time filter; history never changes (assumed).
- Journeys: three; `GET /journeys/` like segments (`{"journey_id", "journey_name",
  "status", "user_count", "created_at"}`); `GET /{journey_id}/users/` pages
  `{"user_id", "wa_id", "status", "entered_at"}` by contact creation order;
  `DELETE /delete-journey/{id}` -> 204 (assumed), then 404 everywhere.
- A person in the app can delete a segment or a contact, which the API cannot (assumed
  behaviour: the segment is gone with its members, 404 from then on; a deleted contact leaves
  every segment, as with churn). Tests do it as that person through the admin routes
  `DELETE /_sandbox/chatman/segments/{id}/` and `DELETE /_sandbox/chatman/contacts/{user_id}/`
  (the sandbox credentials required, like the API). Removing a member by hand is the API's
  unsubscribe; creating a contact, its `POST /contacts/`.
- A new contact's `modified_at` is its `created_at` through the API; the contract leaves it
  open, so an import in the app may keep a `modified_at` of its own (assumed): the admin route
  `POST /_sandbox/chatman/contacts/import/` takes the add body plus `modified_at` (after the
  generated history, else 400) and answers 201 with the contact, new by `created_at`, old by
  `modified_at`.
- Churn: updates rename, retag, change `loyalty_tier` or flip the opt-in (modified now);
  creates a new person, or (30%) a known person not yet in Chatman; deletes; and triggers
  new custom events for random contacts (share `create` of the events).
"""

from crmsync.sandbox.providers.chatman.api import Chatman
from crmsync.sandbox.providers.chatman.events import CAMPAIGN_IDS

__all__ = ["CAMPAIGN_IDS", "Chatman"]
