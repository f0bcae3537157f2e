"""Initial access tokens (RFC 7591 §3): made by operators (admin, `manage.py
registrationtoken`) or by app owners in the console; hashed at rest, each for a number of
clients until it expires."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from oauth.hashing import generate_secret, secret_hash

from .models import InitialAccessToken
from .team import UserId, owned_count

# What an app owner may make in the console: a few clients, for a week at most, never live.
CONSOLE_MAX_CLIENTS = 5
CONSOLE_LONGEST = timedelta(days=7)


def bearer(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer` header (RFC 6750 §2.1), if it has one."""
    scheme, _, token = (header or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 200 or not token.isascii():
        return None
    return token


def initial_token_create(
    *,
    owner_id: UserId,
    max_clients: int = 1,
    expires_in: timedelta = timedelta(days=1),
    live: bool = False,
    from_console: bool = False,
) -> tuple[InitialAccessToken, str]:
    """A new token, returned once: only its hash is kept."""
    if max_clients < 1 or expires_in <= timedelta(0):
        raise ValueError("A token is for at least one client, for some time.")
    if from_console and (live or max_clients > CONSOLE_MAX_CLIENTS or expires_in > CONSOLE_LONGEST):
        raise ValueError("Beyond what the console may make.")
    value = generate_secret()
    token = InitialAccessToken.objects.create(
        token_hash=secret_hash(value),
        owner_id=owner_id,
        max_clients=max_clients,
        expires_at=timezone.now() + expires_in,
        live=live,
        from_console=from_console,
    )
    return token, value


def initial_token_find(value: str | None) -> InitialAccessToken | None:
    """The token presented, if it is still good for another client."""
    if not value:
        return None
    token = InitialAccessToken.objects.filter(
        token_hash=secret_hash(value),
        expires_at__gt=timezone.now(),
        registered__lt=F("max_clients"),
        owner__is_active=True,
    ).first()
    if token is not None and token.from_console:
        if owned_count(token.owner_id) >= settings.DEVELOPER_MAX_APPS:
            return None
    return token


def initial_token_use(token: InitialAccessToken) -> bool:
    """Count one client against the token; False when it is used up meanwhile (a conditional
    update, so that registrations sent at once cannot pass its limit)."""
    return bool(
        InitialAccessToken.objects.filter(
            pk=token.pk, registered__lt=F("max_clients"), expires_at__gt=timezone.now()
        ).update(registered=F("registered") + 1)
    )
