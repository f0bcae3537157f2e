"""Registered clients: their lifecycle (registration, secrets, disabling), and the copies each
process holds, since every token request looks its client up and clients change rarely.
Saving or deleting a client moves a shared stamp (see infra/stamps.py), so a change (a disabled
client, a rotated secret) reaches every process within SHARED_CACHE_CHECK_INTERVAL seconds.
"""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from events.recording import Identifier, Kind, event_record
from infra.origin import NOWHERE, Origin
from infra.stamps import SharedStamp

from .hashing import generate_secret, secret_hash
from .models import Client, ClientMember
from .scopes import scope_list, scope_string
from .services import consent_withdraw, grants_end

# Visible ASCII: generated ids are URL-safe base64, hand-picked ones (demo-client) similar.
CLIENT_ID_SHAPE = re.compile(r"[\x21-\x7e]{1,64}")
# Enough for every client of a large deployment; unknown ids are never held.
MAX_HELD = 10_000

clients_stamp = SharedStamp("oauth:clients")
_held: dict[str, Client] = {}
_origins: frozenset[str] | None = None
_lock = threading.Lock()
# Moved by every forgetting: a row read before one must not be kept after it (another thread
# may forget while this one reads, and the stamp that made it forget will not move again).
_generation = 0


def active_client(client_id: str) -> Client | None:
    """The enabled client with this id. Disabled clients are unknown: they can neither start a
    flow nor use a token."""
    if not isinstance(client_id, str) or not CLIENT_ID_SHAPE.fullmatch(client_id):
        return None  # NUL and other odd bytes must not reach the database
    if clients_stamp.moved():
        clients_forget()
    client = _held.get(client_id)
    if client is None:
        generation = _generation
        client = Client.objects.active().filter(client_id=client_id).first()
        if client is not None:
            with _lock:
                if generation == _generation:
                    if len(_held) >= MAX_HELD:
                        _held.clear()
                    _held[client_id] = client
    return client


def browser_origins() -> frozenset[str]:
    """Every origin an enabled public client may call from (CORS preflights name no client)."""
    global _origins
    if clients_stamp.moved():
        clients_forget()
    known = _origins
    if known is None:
        generation = _generation
        origins: set[str] = set()
        for client in Client.objects.active().filter(client_type=Client.Type.PUBLIC):
            origins |= client.cors_origins()
        known = frozenset(origins)
        with _lock:
            if generation == _generation:
                _origins = known
    return known


def clients_forget() -> None:
    global _origins, _generation
    with _lock:
        _held.clear()
        _origins = None
        _generation += 1


@receiver(post_save, sender=Client)
@receiver(post_delete, sender=Client)
def client_changed(sender: Any, **kwargs: Any) -> None:
    # Now, and again after the commit: a process reloading in between would otherwise hold
    # the old row until the next change (the admin saves inside a transaction).
    announce_client_change()
    transaction.on_commit(announce_client_change)


def announce_client_change() -> None:
    clients_stamp.move()
    clients_forget()


def client_register(
    client: Client, *, origin: Origin = NOWHERE, actor_id: Identifier = None
) -> str | None:
    """Store a new client, with a fresh secret if it is confidential. Returns the secret, which
    exists only in this return value: only its hash is kept. `actor_id` is the operator who
    registered it, if one did."""
    client.full_clean()
    client.allowed_scopes = scope_string(scope_list(client.allowed_scopes))
    secret = None if client.is_public else generate_secret()
    client.secret_hash = "" if secret is None else secret_hash(secret)
    client.save()
    event_record(
        Kind.CLIENT_CREATED, origin=origin, client_id=client.pk, actor_id=actor_id,
        name=client.name,
    )  # fmt: skip
    return secret


def client_create(
    *,
    name: str,
    redirect_uris: list[str],
    public: bool = False,
    first_party: bool = False,
    native: bool = False,
    scope: str | None = None,
    post_logout_redirect_uris: list[str] | None = None,
    backchannel_logout_uri: str = "",
    origin: Origin = NOWHERE,
) -> tuple[Client, str | None]:
    """Register a client from its parts (the createclient command, tests)."""
    client = Client(
        name=name,
        redirect_uris=redirect_uris,
        client_type=Client.Type.PUBLIC if public else Client.Type.CONFIDENTIAL,
        first_party=first_party,
        native=native,
        post_logout_redirect_uris=post_logout_redirect_uris or [],
        backchannel_logout_uri=backchannel_logout_uri,
    )
    if scope is not None:
        client.allowed_scopes = " ".join(scope_list(scope))
    return client, client_register(client, origin=origin)


def client_update(
    client: Client, *, fields: list[str], origin: Origin = NOWHERE, actor_id: Identifier = None
) -> str | None:
    """Save what an operator changed, and only that: a secret rotated meanwhile by someone
    else must not be written over with the value this copy was read with. A client that became
    public loses its secret; one that became confidential gets one, returned to be shown once."""
    changed = [name for name in fields if name != "is_active"]
    if client.is_public and (client.secret_hash or client.previous_secret_hash):
        client.secret_hash = client.previous_secret_hash = ""
        client.previous_secret_expires_at = None
        changed += ["secret_hash", "previous_secret_hash", "previous_secret_expires_at"]
    with transaction.atomic():
        if changed:
            client.save(update_fields=changed)
            event_record(
                Kind.CLIENT_CHANGED, origin=origin, client_id=client.pk, actor_id=actor_id,
                fields=sorted(changed),
            )  # fmt: skip
        if "is_active" in fields:
            client_set_active(client, client.is_active, origin=origin, actor_id=actor_id)
        if not client.is_public and not client.secret_hash:
            return client_secret_rotate(client, origin=origin, actor_id=actor_id)
    return None


# A rotated secret stays valid at most this long beside its successor.
LONGEST_OVERLAP = timedelta(days=7)


def client_secret_rotate(
    client: Client,
    *,
    overlap: timedelta = timedelta(0),
    origin: Origin = NOWHERE,
    actor_id: Identifier = None,
) -> str:
    """A new secret for a confidential client. Without overlap the old one stops working at once
    here and in every process within SHARED_CACHE_CHECK_INTERVAL seconds; with one it keeps
    working that long (at most LONGEST_OVERLAP), so that the app's servers can change over.
    Never more than two: a secret kept by an earlier overlap stops now."""
    if not timedelta(0) <= overlap <= LONGEST_OVERLAP:
        raise ValueError("The overlap is between no time and seven days.")
    secret = generate_secret()
    keep = overlap > timedelta(0) and bool(client.secret_hash)
    client.previous_secret_hash = client.secret_hash if keep else ""
    client.previous_secret_expires_at = timezone.now() + overlap if keep else None
    client.secret_hash = secret_hash(secret)
    client.save(update_fields=["secret_hash", "previous_secret_hash", "previous_secret_expires_at"])
    event_record(
        Kind.CLIENT_SECRET_ROTATED, origin=origin, client_id=client.pk, actor_id=actor_id,
        overlap=int(overlap.total_seconds()) if keep else 0,
    )  # fmt: skip
    return secret


def client_set_active(
    client: Client, active: bool, *, origin: Origin = NOWHERE, actor_id: Identifier = None
) -> None:
    """A disabled client can neither start a flow nor obtain or refresh tokens."""
    client.is_active = active
    client.save(update_fields=["is_active"])
    kind = Kind.CLIENT_ENABLED if active else Kind.CLIENT_DISABLED
    event_record(kind, origin=origin, client_id=client.pk, actor_id=actor_id)


def client_grants_revoke(
    client: Client, *, origin: Origin = NOWHERE, actor_id: Identifier = None
) -> int:
    """End every grant of the client, after an incident: all its refresh tokens stop working,
    and the codes it has not exchanged yet."""
    revoked = grants_end(client=client)
    event_record(
        Kind.GRANTS_REVOKED, origin=origin, client_id=client.pk, actor_id=actor_id,
        grants=revoked,
    )  # fmt: skip
    return revoked


def client_member_remove(member: ClientMember, *, origin: Origin = NOWHERE) -> None:
    """Take a person off an app's team or testers. While the app is in development only its
    people may authorize it, so what this person authorized ends too (their refresh tokens stop
    working at once); the people using a live app keep theirs."""
    with transaction.atomic():
        member.delete()
        if not member.client.live:
            consent_withdraw(user=member.user, client=member.client, origin=origin)


def client_delete(client: Client, *, origin: Origin = NOWHERE, actor_id: Identifier = None) -> None:
    """Remove a client for good: its grants, codes and consents go with it (so its refresh
    tokens stop working at once), and its security events keep its name and id."""
    with transaction.atomic():
        event_record(
            Kind.CLIENT_DELETED, origin=origin, actor_id=actor_id,
            client=client.client_id, name=client.name,
        )  # fmt: skip
        client.delete()
