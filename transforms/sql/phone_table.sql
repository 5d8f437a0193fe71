-- The phone functions' answers, kept between runs so a number is parsed once
-- (transforms/functions.py). '' stands for no calling code and no default region, so they
-- compare as keys.
CREATE SCHEMA IF NOT EXISTS ops;
CREATE TABLE IF NOT EXISTS ops.phone_e164 (
    raw VARCHAR NOT NULL,
    calling_code VARCHAR NOT NULL,
    default_region VARCHAR NOT NULL,
    library VARCHAR NOT NULL,
    e164 VARCHAR,
    quality VARCHAR
);
ALTER TABLE ops.phone_e164 ADD COLUMN IF NOT EXISTS quality VARCHAR;
COMMENT ON TABLE ops.phone_e164 IS 'Every phone number crmsync parsed, with its answer, so a number is parsed once per default region and library version.';
COMMENT ON COLUMN ops.phone_e164.raw IS 'The number as a provider holds it.';
COMMENT ON COLUMN ops.phone_e164.calling_code IS 'The calling code the provider gave beside it; empty for none.';
COMMENT ON COLUMN ops.phone_e164.default_region IS 'transform.default_region the number was read in (national numbers); empty for none.';
COMMENT ON COLUMN ops.phone_e164.library IS 'The answer''s version: phonenumbers'' (its metadata changes) / crmsync''s rules''; another version parses again.';
COMMENT ON COLUMN ops.phone_e164.e164 IS 'The number in E.164; NULL: junk.';
COMMENT ON COLUMN ops.phone_e164.quality IS 'valid, possible or junk; NULL: no phone.';
