"""Phone numbers as the providers send them -> E.164, with the phonenumbers library."""

from __future__ import annotations

from typing import NamedTuple

import phonenumbers

VALID, POSSIBLE, JUNK = "valid", "possible", "junk"


class Phone(NamedTuple):
    e164: str | None  # None: junk (or no phone at all)
    quality: str | None  # VALID, POSSIBLE (a plausible number in a range the library does not
    # know yet: new mobile ranges), JUNK; None when there is no phone


def parse_phone(raw: str | None, calling_code: str | None = None, default_region: str | None = None) -> Phone:
    """The number's E.164 (`+2348031234567`) and how sure that is.

    `calling_code` is a separate country code field (Chatman's `country_code`), used when the
    number itself is national (`08031234567`); `default_region` (e.g. "NG") is the last resort
    for national numbers with no code at all. A valid reading wins; failing one, a number of
    a possible length for a real country keeps its E.164 (phonenumbers' metadata lags behind
    newly allocated ranges, e.g. UK mobiles +44 7911 67..., and such a person must not split in
    two); anything else is junk and joins nobody.
    """
    if not raw or not raw.strip():
        return Phone(None, None)
    readings = list(_readings(raw.strip(), calling_code, default_region))
    for check, quality in ((phonenumbers.is_valid_number, VALID), (_is_possible, POSSIBLE)):
        for parsed in readings:
            if check(parsed):
                return Phone(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), quality)
    return Phone(None, JUNK)


def to_e164(raw: str | None, calling_code: str | None = None, default_region: str | None = None) -> str | None:
    """E.164 for a valid or possible number, else None (junk stays junk): see parse_phone."""
    return parse_phone(raw, calling_code, default_region).e164


def _readings(text: str, calling_code: str | None, default_region: str | None) -> list:
    """Every way the text can be read as a number, most likely first."""
    if not any(ch.isdigit() for ch in text):
        return []
    candidates = []
    if text.startswith("+"):
        candidates.append((text, None))
    else:
        digits = "".join(ch for ch in text if ch.isdigit())
        code = (calling_code or "").lstrip("+")
        if code:
            region = phonenumbers.region_code_for_country_code(int(code)) if code.isdigit() else None
            candidates.append((text, region))
            if digits.startswith(code):
                candidates.append(("+" + digits, None))
        candidates.append(("+" + digits, None))
        if default_region:
            candidates.append((text, default_region))
    readings = []
    for number, region in candidates:
        try:
            readings.append(phonenumbers.parse(number, region))
        except phonenumbers.NumberParseException:
            continue
    return readings


def _is_possible(parsed: phonenumbers.PhoneNumber) -> bool:
    """A possible length for a country that exists (an unknown calling code is junk)."""
    known = phonenumbers.region_code_for_country_code(parsed.country_code) != phonenumbers.UNKNOWN_REGION
    return known and phonenumbers.is_possible_number(parsed)
