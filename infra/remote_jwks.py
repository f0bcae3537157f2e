"""Public keys published by another server as a JWK Set (RFC 7517): an upstream provider's, for
its id_tokens, or this server's, for a resource server that runs apart from it.

The keys are fetched when first needed and kept in memory for as long as the JWKS response's
Cache-Control allows (five minutes when it says nothing, an hour at most), so that a key the
issuer stops publishing (retired, or withdrawn after a compromise) stops being trusted here too.
A token that names an unknown `kid` makes them fetched early. Either way at most once a minute,
so garbage tokens cannot turn into a flood of requests to the JWKS; and a failed fetch keeps the
keys held (the issuer's outage must not stop the API) until the next try.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from typing import Any

import requests
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey

from .outbound import bounded_get

Key = RSAKey | ECKey
log = logging.getLogger(__name__)

FETCH_TIMEOUT = 5
MAX_AGE = re.compile(r"(?:^|[,\s])max-age=(\d+)", re.IGNORECASE)


class RemoteJWKS:
    def __init__(
        self,
        url: str,
        *,
        target: str = "jwks",
        min_refresh_interval: float = 60.0,
        default_max_age: float = 300.0,
        longest_max_age: float = 3600.0,
    ) -> None:
        self.url = url
        self.target = target  # what the metrics call the server
        self.min_refresh_interval = min_refresh_interval
        self.default_max_age = default_max_age
        self.longest_max_age = longest_max_age
        self.keys: dict[str, Key] = {}
        self.fetched_at: float | None = None  # the last try, whether it worked or not
        self.fresh_until = float("-inf")
        self.lock = threading.Lock()

    def find(self, kid: str) -> Key | None:
        key = self.keys.get(kid)
        if key is not None and time.time() < self.fresh_until:
            return key
        with self.lock:
            now = time.time()
            wanted = kid not in self.keys or now >= self.fresh_until
            allowed = self.fetched_at is None or now - self.fetched_at >= self.min_refresh_interval
            if wanted and allowed:
                self.fetch()
        return self.keys.get(kid)

    def fetch(self) -> None:
        self.fetched_at = time.time()
        try:
            response = bounded_get(self.url, timeout=FETCH_TIMEOUT, target=self.target)
            response.raise_for_status()
            self.keys = signature_keys(response.json())
        except (requests.RequestException, ValueError, RecursionError) as error:
            # RecursionError: JSON nested too deep for the parser; ValueError: not JSON, or
            # larger than outbound.MAX_BODY
            log.warning("could not fetch the JWKS at %s: %s", self.url, error)
            return
        self.fresh_until = self.fetched_at + self.max_age(response.headers.get("Cache-Control"))

    def max_age(self, cache_control: str | None) -> float:
        """How long a response with this Cache-Control may be used, within our bounds."""
        directives = (cache_control or "").lower()
        found = MAX_AGE.search(directives)
        if "no-store" in directives or "no-cache" in directives:
            seconds = 0.0
        else:
            seconds = float(found.group(1)) if found else self.default_max_age
        return min(max(seconds, self.min_refresh_interval), self.longest_max_age)


KEY_TYPES: dict[str, type[Key]] = {"RSA": RSAKey, "EC": ECKey}  # never a shared secret


def signature_keys(document: Any) -> dict[str, Key]:
    """The public signature keys of a JWK Set, by kid. Keys that cannot be understood are
    skipped, as RFC 7517 §5 asks; a document that is no JWK Set at all is a ValueError."""
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ValueError("the document is not a JWK Set")
    found: dict[str, Key] = {}
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        kty, kid = entry.get("kty"), entry.get("kid")
        key_type = KEY_TYPES.get(kty) if isinstance(kty, str) else None
        if key_type is None or not isinstance(kid, str) or not kid:
            continue
        try:
            found[kid] = key_type.import_key(entry)
        except (JoseError, ValueError, TypeError, KeyError):
            continue
    return found


_remote: dict[str, RemoteJWKS] = {}
_remote_lock = threading.Lock()


def remote_jwks(url: str, *, target: str = "jwks") -> RemoteJWKS:
    with _remote_lock:
        if url not in _remote:
            _remote[url] = RemoteJWKS(url, target=target)
        return _remote[url]
