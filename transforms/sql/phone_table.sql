-- The phone functions' answers, kept between runs so a number is parsed once
-- (transforms/functions.py). '' stands for no calling code and no default region, so they
-- compare as keys.
CREATE SCHEMA IF NOT EXISTS ops;
CREATE TABLE IF NOT EXISTS ops.phone_e164 (
    raw VARCHAR NOT NULL,
    calling_code VARCHAR NOT NULL,
    default_region VARCHAR NOT NULL,
    library VARCHAR NOT NULL,  -- the answers version: phonenumbers' (its metadata changes) / our rules'
    e164 VARCHAR,              -- NULL: junk
    quality VARCHAR            -- valid, possible or junk; NULL: no phone
);
ALTER TABLE ops.phone_e164 ADD COLUMN IF NOT EXISTS quality VARCHAR;
