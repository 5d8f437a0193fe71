"""Provider ids that encode the record's k, so a lookup by id needs no index."""

from __future__ import annotations

import re

import numpy as np

from crmsync.sandbox.clock import mix, mix_array

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-([0-9a-f]{12})$")
_HEX24 = re.compile(r"^[0-9a-f]{24}$")


def uuid_for(k: int, salt: int) -> str:
    """A version-4-shaped UUID whose last 12 hex digits are k."""
    return _uuid(k, mix(k, salt))


def uuids_for(ks: np.ndarray, salt: int) -> list[str]:
    """`uuid_for` of many ks (one numpy hash for them all)."""
    return [_uuid(k, h) for k, h in zip(ks.tolist(), mix_array(ks, salt).tolist())]


def _uuid(k: int, h: int) -> str:
    """Bits 32-63, 16-31 and 4-15 of h, the variant from bits 0-1, bits 52-63, then k."""
    x = f"{h:016x}"
    return f"{x[:8]}-{x[8:12]}-4{x[12:15]}-{'89ab'[h & 3]}{x[:3]}-{k:012x}"


def k_from_uuid(value: str, salt: int) -> int | None:
    match = _UUID.match(str(value))
    if not match:
        return None
    k = int(match.group(1), 16)
    return k if uuid_for(k, salt) == value else None


def object_id_for(k: int, salt: int, created_ms: int) -> str:
    """A MongoDB-style ObjectId: 4 bytes of seconds, 2 of salt-derived noise, 6 of k."""
    return f"{created_ms // 1000 & 0xFFFFFFFF:08x}{mix(k, salt) & 0xFFFF:04x}{k:012x}"


def object_ids_for(ks: np.ndarray, salt: int, created_ms: np.ndarray) -> list[str]:
    """`object_id_for` of many ks."""
    seconds = (created_ms // 1000 & 0xFFFFFFFF).tolist()
    noise = (mix_array(ks, salt) & np.uint64(0xFFFF)).tolist()
    return [f"{s:08x}{n:04x}{k:012x}" for k, s, n in zip(ks.tolist(), seconds, noise)]


def k_from_object_id(value: str) -> int | None:
    if not _HEX24.match(str(value)):
        return None
    return int(value[12:], 16)
