"""Signing keys: created on first need, encrypted at rest, cached in every process, published as
a JWKS.

Each process keeps a `KeyRing` in memory, so signing and verifying tokens cost no query; a
shared stamp (see infra/stamps.py) tells it when keys were rotated.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone
from joserfc.jwk import ECKey, KeyParameters, KeySet, RSAKey

from events.recording import Identifier, Kind, event_record
from infra.origin import NOWHERE, Origin
from infra.remote_jwks import Key
from infra.stamps import SharedStamp

from .models import Client, SigningKey

KEY_GENERATORS: dict[str, Callable[[], Key]] = {
    "RS256": lambda: RSAKey.generate_key(2048),
    "ES256": lambda: ECKey.generate_key("P-256"),
}

keys_stamp = SharedStamp("oauth:signing-keys")
log = logging.getLogger(__name__)


def _fernet() -> Fernet:
    secret = settings.SIGNING_KEY_ENCRYPTION_KEY or settings.SECRET_KEY
    digest = hashlib.sha256(b"authserver signing keys\x00" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _key_parameters(algorithm: str, kid: str) -> KeyParameters:
    return {"kid": kid, "alg": algorithm, "use": "sig"}


def signing_key_create(*, algorithm: str, state: str = SigningKey.State.NEXT) -> SigningKey:
    """Generate a key pair and store it, the private part encrypted."""
    generated = KEY_GENERATORS[algorithm]()
    kid = generated.thumbprint()
    key = type(generated).import_key(
        generated.as_pem(private=True), parameters=_key_parameters(algorithm, kid)
    )
    now = timezone.now()
    return SigningKey.objects.create(
        kid=kid,
        algorithm=algorithm,
        state=state,
        private_key_encrypted=_fernet().encrypt(key.as_pem(private=True)).decode(),
        public_jwk=key.as_dict(private=False),
        created_at=now,
        activated_at=now if state == SigningKey.State.ACTIVE else None,
    )


def algorithms_in_use() -> set[str]:
    """The algorithms this server signs with; keys of any other are published, never used."""
    return {settings.ACCESS_TOKEN_ALGORITHM, settings.ID_TOKEN_ALGORITHM}


UNREADABLE = (
    "cannot be decrypted: SIGNING_KEY_ENCRYPTION_KEY (or SECRET_KEY, when it is unset) differs "
    "from the one it was stored with. Set it back, or run manage.py rotatekeys to replace the "
    "keys (tokens they signed keep validating)."
)


def _private_pem(signing_key: SigningKey) -> bytes | None:
    """The private key, or None when it does not decrypt with the configured encryption key."""
    try:
        return _fernet().decrypt(signing_key.private_key_encrypted.encode())
    except InvalidToken:
        return None


def signing_key_readable(signing_key: SigningKey) -> bool:
    return _private_pem(signing_key) is not None


def signing_key_private(signing_key: SigningKey) -> Key:
    pem = _private_pem(signing_key)
    if pem is None:
        raise ImproperlyConfigured(f"Signing key {signing_key.kid} {UNREADABLE}")
    key_class = RSAKey if signing_key.public_jwk["kty"] == "RSA" else ECKey
    return key_class.import_key(
        pem, parameters=_key_parameters(signing_key.algorithm, signing_key.kid)
    )


def signing_key_activate_first(*, algorithm: str) -> None:
    """Make sure an active key exists for `algorithm`, with the next one published beside it,
    so that even the first rotation activates a key verifiers have already fetched. Safe when
    processes race to do it."""
    if not SigningKey.objects.filter(algorithm=algorithm, state=SigningKey.State.ACTIVE).exists():
        try:
            with transaction.atomic():
                signing_key_create(algorithm=algorithm, state=SigningKey.State.ACTIVE)
                signing_key_create(algorithm=algorithm, state=SigningKey.State.NEXT)
        except IntegrityError:
            pass  # another process activated one first; the unique constraint kept it single
    keys_changed()


def signing_key_rotate(
    *, algorithm: str, origin: Origin = NOWHERE, actor_id: Identifier = None
) -> tuple[SigningKey, SigningKey | None]:
    """Activate the next key, retire the active one, and publish a new next key.

    The activated key was (when one existed) already published as `next`, so verifiers that
    cache the JWKS know it before any token carries it. The retired key stays published for
    `verification_window()`. A next key that no longer decrypts (the encryption key changed)
    is retired unused and a new key activated, so one rotation recovers from a lost
    encryption key. Returns the activated and the retired key.
    """
    with transaction.atomic():
        # Every key of the algorithm locked first: a concurrent rotation (a double click) waits
        # here for the other to commit, then rotates again from what that one left.
        locked = SigningKey.objects.select_for_update().filter(algorithm=algorithm)
        list(locked.order_by("pk").values("pk"))  # in one order, so two never deadlock
        now = timezone.now()  # after the wait: the retired key's window counts from here
        retired = SigningKey.objects.filter(
            algorithm=algorithm, state=SigningKey.State.ACTIVE
        ).first()
        activated, passed_over = None, []
        for candidate in SigningKey.objects.filter(
            algorithm=algorithm, state=SigningKey.State.NEXT
        ).order_by("created_at"):
            if not signing_key_readable(candidate):
                _retire(candidate, now)
                passed_over.append(candidate.kid)
            elif activated is None:
                activated = candidate
        if retired is not None:
            _retire(retired, now)
        activated = activated or signing_key_create(algorithm=algorithm)
        activated.state, activated.activated_at = SigningKey.State.ACTIVE, now
        activated.save(update_fields=["state", "activated_at"])
        signing_key_create(algorithm=algorithm, state=SigningKey.State.NEXT)
    keys_changed()
    event_record(
        Kind.KEY_ROTATED, origin=origin, actor_id=actor_id, algorithm=algorithm,
        activated=activated.kid, retired=retired.kid if retired else None,
        unreadable_retired=passed_over,
    )  # fmt: skip
    return activated, retired


def _retire(signing_key: SigningKey, now: datetime) -> None:
    signing_key.state, signing_key.retired_at = SigningKey.State.RETIRED, now
    signing_key.save(update_fields=["state", "retired_at"])


def keys_changed() -> None:
    """Tell every process to reload its keys at its next look at the stamp."""
    keys_stamp.move()
    _holder.ring = None


def verification_window() -> timedelta:
    """How long a retired key must stay published: the longest life of a token it signed. The
    last of those may be signed up to SHARED_CACHE_CHECK_INTERVAL seconds after the rotation, by
    a process that has not looked at the stamp yet."""
    longest_client = Client.objects.aggregate(longest=Max("access_token_lifetime"))["longest"]
    longest = max(settings.ACCESS_TOKEN_LIFETIME, settings.ID_TOKEN_LIFETIME, longest_client or 0)
    return timedelta(seconds=longest + settings.SHARED_CACHE_CHECK_INTERVAL)


@dataclass(frozen=True)
class KeyRing:
    signing: dict[str, Key] = field(default_factory=dict)  # algorithm → active private key
    verifying: dict[str, Key] = field(default_factory=dict)  # kid → public key
    jwks: dict[str, Any] = field(default_factory=lambda: {"keys": []})
    # When the earliest retired key leaves the JWKS (epoch seconds): reload then.
    expires_at: float = float("inf")
    # Active keys that do not decrypt: their algorithm cannot sign, but every key still
    # verifies and is published, so tokens already issued keep working.
    unreadable: dict[str, str] = field(default_factory=dict)  # algorithm → kid
    # When each algorithm's active key became active (epoch seconds), for the metrics.
    activated: dict[str, float] = field(default_factory=dict)

    @classmethod
    def load(cls) -> KeyRing:
        window = verification_window()
        published = SigningKey.objects.filter(
            Q(state__in=[SigningKey.State.NEXT, SigningKey.State.ACTIVE])
            | Q(state=SigningKey.State.RETIRED, retired_at__gt=timezone.now() - window)
        ).order_by("created_at")
        signing: dict[str, Key] = {}
        activated: dict[str, float] = {}
        unreadable: dict[str, str] = {}
        public: list[Key] = []
        expires_at = float("inf")
        in_use = algorithms_in_use()
        for stored in published:
            if stored.state == SigningKey.State.ACTIVE and stored.activated_at is not None:
                activated[stored.algorithm] = stored.activated_at.timestamp()
            if stored.state == SigningKey.State.ACTIVE and stored.algorithm in in_use:
                try:
                    signing[stored.algorithm] = signing_key_private(stored)
                except ImproperlyConfigured as error:
                    log.error("%s", error)
                    unreadable[stored.algorithm] = stored.kid
            elif stored.state == SigningKey.State.RETIRED and stored.retired_at is not None:
                expires_at = min(expires_at, (stored.retired_at + window).timestamp())
            public_class = RSAKey if stored.public_jwk["kty"] == "RSA" else ECKey
            public.append(public_class.import_key(stored.public_jwk))
        return cls(
            signing=signing,
            verifying={key.kid: key for key in public if key.kid},
            jwks={"keys": [key.as_dict(private=False) for key in public]},
            expires_at=expires_at,
            unreadable=unreadable,
            activated=activated,
        )


class _RingHolder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ring: KeyRing | None = None


_holder = _RingHolder()


def key_ring_forget() -> None:
    """Drop this process's keys (tests, whose database rolls back under them)."""
    _holder.ring = None
    keys_stamp.forget()


def key_ring(*, recheck: bool = False) -> KeyRing:
    """The current keys, from memory; reloaded when the shared stamp has moved, or when a
    retired key is due to leave the JWKS. `recheck` looks at the stamp now."""
    moved = keys_stamp.moved(look_now=recheck or _holder.ring is None)
    ring = _holder.ring
    if ring is None or moved or time.time() >= ring.expires_at:
        with _holder.lock:
            try:
                ring = _holder.ring = KeyRing.load()
            except Exception:
                keys_stamp.forget()  # so the next request loads them again, not the old ones
                raise
    return ring


def active_signing_key(algorithm: str) -> KeySet:
    """The active key for `algorithm`, as a one-key set so joserfc writes its `kid` header."""
    ring = key_ring()
    key = ring.signing.get(algorithm)
    if algorithm in ring.unreadable:
        raise ImproperlyConfigured(f"Signing key {ring.unreadable[algorithm]} {UNREADABLE}")
    if key is None:
        signing_key_activate_first(algorithm=algorithm)
        key = key_ring().signing[algorithm]
    return KeySet([key])


def verifying_key(kid: str) -> Key | None:
    """The public key named `kid`. An unknown kid may be a key another process just activated,
    so the shared version stamp is read again (no SQL unless it moved)."""
    key = key_ring().verifying.get(kid)
    if key is None:
        key = key_ring(recheck=True).verifying.get(kid)
    return key


def signing_key_problem() -> str | None:
    """Why this process cannot sign (for readiness), or None. A missing first key is created,
    as the first token would; an active key that does not decrypt is named."""
    try:
        for algorithm in sorted(algorithms_in_use()):
            active_signing_key(algorithm)
    except ImproperlyConfigured:
        return "unreadable"
    except Exception as error:  # a database or cache failure while loading: not ready
        return type(error).__name__
    return None


def signing_key_ages() -> dict[str, float]:
    """Seconds since each algorithm's active key became active, from the keys in memory (a
    reload only when they were rotated, as for signing)."""
    now = time.time()
    return {algorithm: now - at for algorithm, at in key_ring().activated.items()}


def published_jwks() -> dict[str, Any]:
    """The JWKS, created with a first key if there is none yet, so clients can always fetch it."""
    ring = key_ring()
    missing = algorithms_in_use() - set(ring.signing) - set(ring.unreadable)
    for algorithm in sorted(missing):
        active_signing_key(algorithm)
    return key_ring().jwks if missing else ring.jwks
