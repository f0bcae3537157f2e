"""Verification keys for access tokens, from this server's key ring or from a JWKS URL.

A resource server that runs apart from this server sets ACCESS_TOKEN_JWKS_URL: the keys are
fetched once, kept in memory, and fetched again when a token names an unknown `kid`, at most
once a minute, so garbage tokens cannot turn into a flood of requests to the JWKS.
"""

from __future__ import annotations

import logging
import threading
import time

import requests
from django.conf import settings
from joserfc.jwk import ECKey, KeySet, RSAKey

Key = RSAKey | ECKey
log = logging.getLogger(__name__)

FETCH_TIMEOUT = 5


class RemoteJWKS:
    def __init__(self, url: str, *, min_refresh_interval: float = 60.0) -> None:
        self.url = url
        self.min_refresh_interval = min_refresh_interval
        self.keys: dict[str, Key] = {}
        self.fetched_at: float | None = None
        self.lock = threading.Lock()

    def find(self, kid: str) -> Key | None:
        key = self.keys.get(kid)
        if key is not None:
            return key
        with self.lock:
            due = self.fetched_at is None or (
                time.time() - self.fetched_at >= self.min_refresh_interval
            )
            if due and kid not in self.keys:
                self.fetch()
        return self.keys.get(kid)

    def fetch(self) -> None:
        self.fetched_at = time.time()
        try:
            response = requests.get(self.url, timeout=FETCH_TIMEOUT)
            response.raise_for_status()
            key_set = KeySet.import_key_set(response.json())
        except (requests.RequestException, ValueError) as error:
            log.warning("could not fetch the JWKS at %s: %s", self.url, error)
            return
        self.keys = {key.kid: key for key in key_set.keys if key.kid}  # type: ignore[misc]


_remote: dict[str, RemoteJWKS] = {}
_remote_lock = threading.Lock()


def remote_jwks(url: str) -> RemoteJWKS:
    with _remote_lock:
        if url not in _remote:
            _remote[url] = RemoteJWKS(url)
        return _remote[url]


def verification_key(kid: str) -> Key | None:
    """The public key named `kid`, or None."""
    url = getattr(settings, "ACCESS_TOKEN_JWKS_URL", "")
    if url:
        return remote_jwks(url).find(kid)
    # Imported here, not at the top: a separate resource server has no signing-key models.
    from .keys import verifying_key

    return verifying_key(kid)
