"""Waabot emulator (CONTRACT.md section 4, docs/waabot.md): contacts and contact groups.

Mounted at /waabot/api/v1. Modules: `api` (routes, auth, admin hooks), `tokens` (JWTs),
`contacts` (generated and changed records), `groups`, `churn`.

Behaviour the docs and the contract leave open, decided here:
- Envelope `{"status", "message", "data"}` on every answer; errors are
  `{"status": false, "message": ..., "data": null}` with a 4xx code (assumed).
- `POST /sessions {"email", "password"}` -> 200, data `{"accessToken", "refreshToken",
  "user": {"_id", "email"}}`; wrong credentials -> 401 "Invalid email or password" (assumed
  message and code). Tokens are HS256 JWTs signed with a sandbox secret, claims
  `sub` (client id), `session`, `kind`, `iat`, `exp`. Access tokens live `access_ttl_s`
  (900) seconds, refresh tokens a year (assumed).
- Every other route needs `Authorization: Bearer <accessToken>` AND a valid
  `x-refresh: <refreshToken>` on every request (assumed: checked even when the access token
  is still valid). An expired access token with a valid refresh token is served and the
  response carries a new access token in `x-access-token` (assumed); anything else ->
  401 "Unauthorized" (assumed message).
- Instance credentials `session_id` / `access_token`: query string on GET and DELETE
  (assumed for DELETE), JSON body on POST and PUT; missing or wrong -> 401
  "Invalid instance credentials" (assumed). Token checks come first.
- Creates answer 201, everything else 200 (assumed). Messages follow the docs where given
  ("Contact fetched successfully!", "ContactGroup group ... successfully!"), otherwise
  "Contact created/updated/deleted successfully!" (assumed).
- `GET /contact` lists the account's records ("mine": `client_id` is the account's),
  `?type=all` every record, including those of a second client of the account with its own
  groups (the docs' sample shows two client ids) (assumed). No paging; newest `createdAt`
  first; the body is streamed. Those other-client groups are never listed by
  `/contact_groups` and answer 404 there (assumed).
- About 10% of people have a second record in another group; the same exact `number` text
  appears at most once per group. `POST /contact` or a `PUT` that would break this ->
  400 "Contact already exists in this group" (assumed; exact text comparison, as a database
  unique index would do). A group that is not one of the account's -> 404
  "Contact group not found" (assumed).
- `number` is free text: bare digits mostly, sometimes `+...`, spaced or bracketed, junk for
  junk people. A JSON number is accepted and stored as text (assumed). `PUT /contact/{id}`
  takes any of `name`, `number`, `group_id` and ignores other keys (the docs' example body
  is a copy of another endpoint's) (assumed); it answers the updated record.
- An unknown or malformed id -> 404 (assumed). `DELETE /contact/{id}` answers data
  `{"n": 1, "ok": 1, "deletedCount": 1}` like the documented group delete (assumed).
  `DELETE /contact_groups/{id}` also deletes the group's contact records (assumed), the
  default group included.
- About 20% of generated records were edited after creation (`updatedAt` > `createdAt`);
  the rest show equal timestamps as in the docs' sample (assumed).
- A record written through the API belongs to the person whose phone has its digits; an
  unknown phone (8+ digits) adopts a new person; fewer digits belong to nobody and such a
  record is left out of `accounts()` (the sandbox cannot represent a junk-only person).
- `memberships()` covers the account's groups only; `counts()["contact_groups"]` counts them.
"""

from crmsync.sandbox.providers.waabot.api import Waabot

__all__ = ["Waabot"]
