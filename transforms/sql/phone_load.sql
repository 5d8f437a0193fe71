-- The answers phone_e164 can reuse: same default region, same phonenumbers version.
SELECT raw, calling_code, e164
FROM ops.phone_e164
WHERE default_region = $region AND library = $library
