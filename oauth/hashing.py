"""High-entropy secrets (codes, refresh tokens, client secrets): generated here, stored as hashes.

A 256-bit random value needs no slow password hash: SHA-256 makes the stored form useless to a
thief at a cost of a microsecond, where a password hasher would cost milliseconds per request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def generate_secret() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def secret_hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def secret_matches(value: str, expected_hash: str) -> bool:
    """Constant-time, so response timing reveals nothing about the stored hash."""
    if not expected_hash:
        return False
    return hmac.compare_digest(secret_hash(value), expected_hash)
