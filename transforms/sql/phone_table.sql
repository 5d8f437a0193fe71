-- phone_e164's answers, kept between runs so a number is parsed once (transforms/functions.py).
-- '' stands for no calling code and no default region, so they compare as keys.
CREATE SCHEMA IF NOT EXISTS ops;
CREATE TABLE IF NOT EXISTS ops.phone_e164 (
    raw VARCHAR NOT NULL,
    calling_code VARCHAR NOT NULL,
    default_region VARCHAR NOT NULL,
    library VARCHAR NOT NULL,  -- the phonenumbers version that answered: its metadata changes
    e164 VARCHAR               -- NULL: not a valid number
);
