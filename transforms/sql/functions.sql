-- SQL functions the models call, created on the runner's connection (transforms/functions.py).

-- An email as identity resolution compares it: trimmed and lower case, NULL unless it looks
-- like an address (something@host.tld, no spaces inside).
CREATE OR REPLACE TEMP MACRO email_normal(email) AS
    nullif(regexp_extract(lower(email), '^\s*([^@\s]+@[^@\s]+\.[^@\s]+)\s*$', 1), '');
