-- Scale a synced warehouse's raw tables up from its template (attached as `template`), as
-- benchmarks/transforms.py explains. `_plan` (table, replicas, rows, template_rows) says, per
-- scaled table, how many copies of the template rows to make and how many rows to keep.
-- Copy 0 is the template itself; copy r > 0 gets new ids, phones and emails. The row named
-- 'contacts' counts the copies every contact table holds in full: what hangs off contacts is
-- copied that many times, and event copy j belongs with contact copy j % that number, so no
-- row points at a contact the trimmed last copy left out.

-- A new id of the same shape: r added to the middle of a Mongo ObjectId (the first 8 hex
-- digits are its creation time, which DM Champ's created_at reads) or to the second group of
-- a UUID, a number moved by 10^10 per copy; anything else gets a suffix. Adding (not
-- overwriting) keeps the copies of one id apart from each other and from the original.
CREATE OR REPLACE TEMP MACRO hex_plus(digits, r) AS
    printf('%0' || length(digits) || 'x', (CAST('0x' || digits AS BIGINT) + r) % (16 ** length(digits))::BIGINT);
CREATE OR REPLACE TEMP MACRO synth_id(id, r) AS CASE
    WHEN r = 0 OR id IS NULL THEN id
    WHEN regexp_full_match(id, '[0-9a-f]{24}') THEN left(id, 8) || hex_plus(substr(id, 9, 6), r) || right(id, 10)
    WHEN regexp_full_match(id, '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}')
        THEN left(id, 9) || hex_plus(substr(id, 10, 4), r) || right(id, 23)
    WHEN regexp_full_match(id, '[0-9]{1,8}') THEN CAST(CAST(id AS BIGINT) + r * 10000000000 AS VARCHAR)
    ELSE id || '.' || r
END;
CREATE OR REPLACE TEMP MACRO synth_number(id, r) AS id + r * 10000000000;

-- The same person's number in every shape (+234 803 123 4567, 2348031234567, 08031234567...)
-- ends in the same four digits, so moving them the same way keeps one number one number
-- across providers; 7919 is prime to 10^4, so the 10^4 first copies of a number differ.
-- A value not ending in four digits (junk: "N/A", a short code) stays as it is.
CREATE OR REPLACE TEMP MACRO synth_phone(phone, r) AS CASE
    WHEN r = 0 OR NOT regexp_matches(phone, '[0-9]{4}$') THEN phone
    ELSE left(phone, length(phone) - 4)
         || lpad(CAST((CAST(right(phone, 4) AS INTEGER) + r * 7919) % 10000 AS VARCHAR), 4, '0')
END;

-- name@host -> name.r<r>@host: case and surrounding spaces are kept, so cleaning still has work.
CREATE OR REPLACE TEMP MACRO synth_email(email, r) AS
    CASE WHEN r = 0 THEN email ELSE regexp_replace(email, '@', '.r' || r || '@', 'g') END;

CREATE OR REPLACE TEMP MACRO copies(name) AS TABLE
    SELECT copy.range AS r, p.template_rows, p."rows" FROM _plan AS p, range(p.replicas) AS copy WHERE p."table" = name;
-- Copy r of every row of the template's `name`, numbered i, the first `rows` of them.
CREATE OR REPLACE TEMP MACRO scaled(name) AS TABLE
    SELECT * EXCLUDE (template_rows, "rows")
    FROM copies(name), (SELECT *, row_number() OVER () - 1 AS i FROM query_table('template.' || name))
    WHERE r * template_rows + i < "rows";
-- Copy r of every row of the template's `name`, for each whole copy of the contacts.
CREATE OR REPLACE TEMP MACRO with_contacts(name) AS TABLE
    SELECT r, t.* FROM copies('contacts'), query_table('template.' || name) AS t;
CREATE OR REPLACE TEMP MACRO contact_copy(j) AS j % (SELECT replicas FROM _plan WHERE "table" = 'contacts');

-- Contacts and what hangs off them: copy r of each row, the first `rows` kept.
DELETE FROM raw_chatman.contacts;
INSERT INTO raw_chatman.contacts
SELECT * EXCLUDE (r, i) REPLACE (
    synth_id(user_id, r) AS user_id, synth_phone(wa_id, r) AS wa_id,
    synth_phone(phone_number, r) AS phone_number, synth_email(email, r) AS email,
    synth_id(external_customer_id, r) AS external_customer_id)
FROM scaled('raw_chatman.contacts');

DELETE FROM raw_whautomate.contacts;
INSERT INTO raw_whautomate.contacts
SELECT * EXCLUDE (r, i) REPLACE (
    synth_id(id, r) AS id, synth_phone(phone_number, r) AS phone_number, synth_email(email, r) AS email)
FROM scaled('raw_whautomate.contacts');

DELETE FROM raw_whautomate.clients;
INSERT INTO raw_whautomate.clients
SELECT * EXCLUDE (r) REPLACE (
    synth_id(id, r) AS id, synth_phone(phone_number, r) AS phone_number, synth_email(email, r) AS email)
FROM with_contacts('raw_whautomate.clients');

DELETE FROM raw_waabot.contacts;
INSERT INTO raw_waabot.contacts
SELECT * EXCLUDE (r, i) REPLACE (synth_id(id, r) AS id, synth_phone(number, r) AS number)
FROM scaled('raw_waabot.contacts');

DELETE FROM raw_chatrace.contacts;
INSERT INTO raw_chatrace.contacts
SELECT * EXCLUDE (r, i) REPLACE (
    synth_number(id, r) AS id, synth_phone(phone, r) AS phone, synth_email(email, r) AS email)
FROM scaled('raw_chatrace.contacts');

DELETE FROM raw_chatrace.opportunities;
INSERT INTO raw_chatrace.opportunities
SELECT * EXCLUDE (r) REPLACE (synth_number(id, r) AS id, synth_number(contact_id, r) AS contact_id)
FROM with_contacts('raw_chatrace.opportunities');

DELETE FROM raw_chatrace.orders;
INSERT INTO raw_chatrace.orders
SELECT * EXCLUDE (r) REPLACE (synth_id(order_id, r) AS order_id, synth_number(contact_id, r) AS contact_id)
FROM with_contacts('raw_chatrace.orders');

DELETE FROM raw_dmchamp.contacts;
INSERT INTO raw_dmchamp.contacts
SELECT * EXCLUDE (r, i) REPLACE (
    synth_id(contact_id, r) AS contact_id, synth_phone(phone_e164, r) AS phone_e164,
    synth_email(email, r) AS email)
FROM scaled('raw_dmchamp.contacts');

DELETE FROM raw_dmchamp.contact_tags;
INSERT INTO raw_dmchamp.contact_tags
SELECT * EXCLUDE (r) REPLACE (
    synth_id(contact_id, r) || ':' || name AS tag_id, synth_id(contact_id, r) AS contact_id)
FROM with_contacts('raw_dmchamp.contact_tags');

DELETE FROM raw_dmchamp.lookups;
INSERT INTO raw_dmchamp.lookups
SELECT * EXCLUDE (r) REPLACE (
    CASE WHEN lookup_key LIKE '%@%' THEN synth_email(lookup_key, r) ELSE synth_phone(lookup_key, r) END
        AS lookup_key,
    synth_phone(phone_e164, r) AS phone_e164, CAST(synth_email(emails, r) AS JSON) AS emails,
    synth_id(contact_id, r) AS contact_id)
FROM with_contacts('raw_dmchamp.lookups');

-- Events: copy j of each row, the first `rows` kept, each with its contact's copy.
DELETE FROM raw_chatman.triggered_events;
INSERT INTO raw_chatman.triggered_events
SELECT * EXCLUDE (r, i) REPLACE (synth_id(event_id, r) AS event_id, synth_id(user_id, contact_copy(r)) AS user_id)
FROM scaled('raw_chatman.triggered_events');

DELETE FROM raw_chatman.campaign_events;
INSERT INTO raw_chatman.campaign_events
SELECT * EXCLUDE (r, i) REPLACE (synth_id(event_id, r) AS event_id, synth_id(user_id, contact_copy(r)) AS user_id)
FROM scaled('raw_chatman.campaign_events');

DELETE FROM raw_whautomate.messages;
INSERT INTO raw_whautomate.messages
SELECT * EXCLUDE (r, i) REPLACE (synth_id(id, r) AS id, synth_id(contact_id, contact_copy(r)) AS contact_id)
FROM scaled('raw_whautomate.messages');

DELETE FROM raw_dmchamp.messages;
INSERT INTO raw_dmchamp.messages
SELECT * EXCLUDE (r, i) REPLACE (synth_id(id, r) AS id, synth_id(contact_id, contact_copy(r)) AS contact_id)
FROM scaled('raw_dmchamp.messages');

DELETE FROM raw_chatrace.opportunity_comments;
INSERT INTO raw_chatrace.opportunity_comments
SELECT * EXCLUDE (r, i) REPLACE (
    synth_number(id, r) AS id, synth_number(opportunity_id, contact_copy(r)) AS opportunity_id)
FROM scaled('raw_chatrace.opportunity_comments');
