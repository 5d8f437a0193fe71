"""Provider ids that encode the record's k, so a lookup by id needs no index."""

from __future__ import annotations

import re

from sandbox.clock import mix

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-([0-9a-f]{12})$")
_HEX24 = re.compile(r"^[0-9a-f]{24}$")


def uuid_for(k: int, salt: int) -> str:
    """A version-4-shaped UUID whose last 12 hex digits are k."""
    h = mix(k, salt)
    return (f"{h >> 32 & 0xFFFFFFFF:08x}-{h >> 16 & 0xFFFF:04x}-4{h >> 4 & 0xFFF:03x}-"
            f"{0x8 | (h & 0x3):x}{h >> 52 & 0xFFF:03x}-{k:012x}")


def k_from_uuid(value: str, salt: int) -> int | None:
    match = _UUID.match(str(value))
    if not match:
        return None
    k = int(match.group(1), 16)
    return k if uuid_for(k, salt) == value else None


def object_id_for(k: int, salt: int, created_ms: int) -> str:
    """A MongoDB-style ObjectId: 4 bytes of seconds, 2 of salt-derived noise, 6 of k."""
    return f"{created_ms // 1000 & 0xFFFFFFFF:08x}{mix(k, salt) & 0xFFFF:04x}{k:012x}"


def k_from_object_id(value: str) -> int | None:
    if not _HEX24.match(str(value)):
        return None
    return int(value[12:], 16)
