"""Writing security events: by the flows, one INSERT each, or as part of a flow's own statement."""

from __future__ import annotations

import uuid
from typing import Any

from django.dispatch import receiver

from infra.origin import NOWHERE, Origin
from infra.ratelimit import rate_limited
from infra.untrusted import printable

from .models import SecurityEvent

Kind = SecurityEvent.Kind
Identifier = uuid.UUID | str | None


def event_record(
    kind: str,
    *,
    origin: Origin = NOWHERE,
    user_id: Identifier = None,
    client_id: int | None = None,
    actor_id: Identifier = None,
    pseudonym: str = "",
    **detail: Any,
) -> None:
    """One INSERT. `detail` holds small facts (a username tried, a count), never a secret."""
    event = security_event(
        kind, origin=origin, user_id=user_id, client_id=client_id, actor_id=actor_id, **detail
    )
    event.pseudonym = pseudonym
    event.save(force_insert=True)


def security_event(
    kind: str,
    *,
    origin: Origin = NOWHERE,
    user_id: Identifier = None,
    client_id: int | None = None,
    actor_id: Identifier = None,
    **detail: Any,
) -> SecurityEvent:
    """An event not saved yet, for a flow that writes it in the same statement as its rows."""
    return SecurityEvent(
        kind=kind,
        user_id=user_id,
        client_id=client_id,
        actor_id=actor_id,
        ip_address=origin.ip_address,
        user_agent=origin.user_agent,
        detail={
            key: printable(value, 200) if isinstance(value, str) else value
            for key, value in detail.items()
        },
    )


def events_pseudonymise(*, user_id: uuid.UUID, pseudonym: str) -> int:
    """Before an account is deleted: its events keep `pseudonym` in its place (operators can
    still follow what happened, not to whom), and the events it acted in as an operator lose
    their actor."""
    SecurityEvent.objects.filter(actor_id=user_id).update(actor=None)
    return SecurityEvent.objects.filter(user_id=user_id).update(user=None, pseudonym=pseudonym)


@receiver(rate_limited)
def record_rate_limited(
    sender: str, *, origin: Origin, user_id: Identifier = None, **kwargs: Any
) -> None:
    event_record(Kind.RATE_LIMITED, origin=origin, user_id=user_id, limit=sender)
