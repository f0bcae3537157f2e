"""What the token exchange (RFC 8693) of our own mobile apps and the sign-in side (accounts/)
tell each other.

A native app signs the person in with a provider's SDK and sends what the SDK gave it to the
token endpoint. Which of those tokens are good, and whose account they open, is the sign-in
side's to say: it registers an exchanger here (accounts/native.py). This side asks it, through
`Subject`, and issues its own tokens; it knows no provider. An id_token carries no `jti`, so it
is bound to a nonce this server handed the app just before, single use.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from events.recording import Kind, event_record
from infra.origin import Origin

from .hashing import secret_hash
from .models import Client, Grant, RefreshToken, refresh_token_expiry
from .people import Person

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
NONCE_LIFETIME = 300  # seconds: an SDK sign-in takes moments
MAX_NONCE_LENGTH = 256


@dataclass(frozen=True)
class Subject:
    """The token a native app presents (RFC 8693 §2.1), and who presents it."""

    token: str
    token_type: str  # ID_TOKEN_TYPE or ACCESS_TOKEN_TYPE
    issuer: str | None  # `subject_issuer`: which provider, when the token cannot say
    client_id: str
    client_pk: int
    origin: Origin


class SubjectRefused(Exception):
    """The sign-in side will not take the subject token. `description` is a fixed ASCII
    sentence for the client; `unavailable` when the provider could not be asked."""

    def __init__(self, description: str, *, unavailable: bool = False) -> None:
        super().__init__(description)
        self.description = description
        self.unavailable = unavailable


@dataclass(frozen=True)
class Exchanger:
    person: Callable[[Subject], Person]  # the account the subject token signs in to
    offered: Callable[[], bool]  # whether any provider's native sign-in is configured


_exchangers: list[Exchanger] = []


def exchanger_register(exchanger: Exchanger) -> None:
    """For the sign-in side, once, as its app starts."""
    _exchangers[:] = [exchanger]


def exchange_offered() -> bool:
    """Whether the token exchange can succeed at all (discovery lists it only then)."""
    return bool(_exchangers) and _exchangers[0].offered()


def subject_person(subject: Subject) -> Person:
    if not _exchangers:
        raise SubjectRefused("Native sign-in is not available on this server.")
    return _exchangers[0].person(subject)


def _nonce_key(client_id: str, nonce: str) -> str:
    digest = hashlib.sha256(f"{client_id} {nonce}".encode("utf-8", "surrogatepass")).hexdigest()
    return f"native-nonce:{digest}"


def nonce_issue(client: Client) -> str:
    """A nonce for one SDK sign-in of `client`, good for NONCE_LIFETIME seconds."""
    nonce = secrets.token_urlsafe(32)
    cache.set(_nonce_key(client.client_id, nonce), 1, timeout=NONCE_LIFETIME)
    return nonce


def nonce_take(client_id: str, nonce: str) -> bool:
    """Whether this server issued `nonce` to the client and it was not used yet; it is used up
    now. One deletion in the shared cache: of two racing requests only one deletes it."""
    if not nonce or len(nonce) > MAX_NONCE_LENGTH:
        return False
    return bool(cache.delete(_nonce_key(client_id, nonce)))


def exchange_grant_start(
    *,
    grant_id: uuid.UUID,
    user: Person,
    client: Client,
    scope: str,
    auth_time: int,
    refresh_token: str | None,
    origin: Origin,
) -> Grant:
    """The grant a token exchange starts, with its first refresh token, all or nothing."""
    now = datetime.fromtimestamp(auth_time, tz=UTC)
    with transaction.atomic():
        grant = Grant.objects.create(
            id=grant_id, user_id=user.pk, client=client, scope=scope, auth_time=now,
            created_at=now,
            expires_at=now + timedelta(seconds=settings.REFRESH_TOKEN_ABSOLUTE_LIFETIME),
        )  # fmt: skip
        if refresh_token is not None:
            RefreshToken.objects.create(
                token_hash=secret_hash(refresh_token), grant=grant, created_at=now,
                expires_at=refresh_token_expiry(grant, client, now),
            )  # fmt: skip
        event_record(
            Kind.TOKENS_ISSUED, origin=origin, user_id=user.pk, client_id=client.pk,
            grant=str(grant_id), scope=scope, exchange=True,
        )  # fmt: skip
    return grant
