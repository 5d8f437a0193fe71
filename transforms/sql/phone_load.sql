-- The answers the phone functions can reuse: same default region, same answers version
-- (phonenumbers' and crmsync's rules: transforms/functions.py ANSWERS_VERSION).
SELECT raw, calling_code, e164, quality
FROM ops.phone_e164
WHERE default_region = $region AND library = $library
