"""Waabot's session tokens: JWT-shaped (HS256) access and refresh tokens.

Tokens are stateless: a signature made with a sandbox secret proves they were issued here,
and `exp` (epoch seconds) says until when. A refresh token cannot be used as an access
token, nor the reverse (claim `kind`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

_SECRET = b"waabot-sandbox-jwt-secret"
_HEADER = {"alg": "HS256", "typ": "JWT"}
REFRESH_TTL_S = 365 * 24 * 3600  # (assumed) long enough never to expire during a sync


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _json(value: dict) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _signature(signing_input: str) -> str:
    return _encode(hmac.new(_SECRET, signing_input.encode("ascii"), hashlib.sha256).digest())


def issue(kind: str, subject: str, session: int, ttl_s: int) -> str:
    """A signed token for `subject` (the client id) that expires `ttl_s` seconds from now."""
    now = int(time.time())
    claims = {"sub": subject, "session": session, "kind": kind, "iat": now, "exp": now + ttl_s}
    signing_input = f"{_encode(_json(_HEADER))}.{_encode(_json(claims))}"
    return f"{signing_input}.{_signature(signing_input)}"


def claims_of(token: str, kind: str) -> dict | None:
    """The token's claims when it was issued here as a `kind` token (expired or not)."""
    parts = token.split(".")
    if len(parts) != 3 or not token.isascii():
        return None
    signing_input = f"{parts[0]}.{parts[1]}"
    if not hmac.compare_digest(_signature(signing_input), parts[2]):
        return None
    try:
        claims = json.loads(_decode(parts[1]))
    except ValueError:
        return None
    if not isinstance(claims, dict) or claims.get("kind") != kind:
        return None
    return claims


def expired(claims: dict) -> bool:
    return time.time() >= claims["exp"]
