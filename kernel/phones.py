"""Phone numbers as the providers send them -> E.164, with the phonenumbers library."""

from __future__ import annotations

import phonenumbers


def to_e164(raw: str | None, calling_code: str | None = None, default_region: str | None = None) -> str | None:
    """E.164 (`+2348031234567`) for a valid number, else None (junk stays junk).

    `calling_code` is a separate country code field (Chatman's `country_code`), used when the
    number itself is national (`08031234567`); `default_region` (e.g. "NG") is the last resort
    for national numbers with no code at all.
    """
    if not raw or not any(ch.isdigit() for ch in raw):
        return None
    text = raw.strip()
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
    for number, region in candidates:
        try:
            parsed = phonenumbers.parse(number, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return None
