-- The answers parsed in this run (registered as _new_phones by transforms/functions.py).
INSERT INTO ops.phone_e164 (raw, calling_code, default_region, library, e164, quality)
SELECT raw, calling_code, $region, $library, e164, quality
FROM _new_phones
