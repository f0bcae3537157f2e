"""Security events: written by the flows, one INSERT each, read by operators in the admin."""

from __future__ import annotations

import ipaddress
import math
import re
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from .models import SecurityEvent

Kind = SecurityEvent.Kind
# Lone surrogates (U+D800 to U+DFFF) are halves of UTF-16 pairs: JSON's "\ud83d" escape makes
# one (say, a name cut mid-emoji), and no UTF-8 can encode it.
UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")
MAX_STORED_DEPTH = 32


def printable(value: str, limit: int) -> str:
    """Outside text made safe to store and show: no control characters (PostgreSQL refuses NUL)
    and no lone surrogates."""
    return UNPRINTABLE.sub("", value)[:limit]


def storable(value: Any, depth: int = 0) -> Any:
    """Outside JSON made safe to store: PostgreSQL's jsonb refuses the NUL character, lone
    surrogates, NaN and infinities (which Python's JSON parser lets through). What is nested
    deeper than MAX_STORED_DEPTH is left out: no honest document goes that deep, and the
    walk would otherwise run out of stack on one that parsed fine."""
    if isinstance(value, str):
        return UNSTORABLE.sub("", value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list | dict) and depth >= MAX_STORED_DEPTH:
        return None
    if isinstance(value, list):
        return [storable(item, depth + 1) for item in value]
    if isinstance(value, dict):
        return {storable(str(key)): storable(item, depth + 1) for key, item in value.items()}
    return value


@dataclass(frozen=True)
class Origin:
    """Where a request came from, as much as an event records."""

    ip_address: str | None = None
    user_agent: str = ""

    @classmethod
    def of(cls, request: HttpRequest | None) -> Origin:
        """Where `request` came from, worked out once per request (several layers ask)."""
        if request is None:
            return cls()
        known: Origin | None = getattr(request, "_origin", None)
        if known is None:
            known = request._origin = cls._of(request)  # type: ignore[attr-defined]
        return known

    @classmethod
    def _of(cls, request: HttpRequest) -> Origin:
        address = request.META.get("REMOTE_ADDR", "")
        if settings.TRUST_X_FORWARDED_FOR:
            # Behind one proxy that appends the address it saw: the last entry is the client.
            forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
            address = forwarded or address
        try:
            ip_address: str | None = str(ipaddress.ip_address(address))
        except ValueError:
            ip_address = None
        return cls(ip_address, printable(request.META.get("HTTP_USER_AGENT", ""), 300))


NOWHERE = Origin()


def event_record(
    kind: str,
    *,
    origin: Origin = NOWHERE,
    user_id: uuid.UUID | str | None = None,
    client_id: int | None = None,
    **detail: Any,
) -> None:
    """One INSERT. `detail` holds small facts (a username tried, a count), never a secret."""
    security_event(kind, origin=origin, user_id=user_id, client_id=client_id, **detail).save(
        force_insert=True
    )


def security_event(
    kind: str,
    *,
    origin: Origin = NOWHERE,
    user_id: uuid.UUID | str | None = None,
    client_id: int | None = None,
    **detail: Any,
) -> SecurityEvent:
    """An event not saved yet, for a flow that writes it in the same statement as its rows."""
    return SecurityEvent(
        kind=kind,
        user_id=user_id,
        client_id=client_id,
        ip_address=origin.ip_address,
        user_agent=origin.user_agent,
        detail={
            key: printable(value, 200) if isinstance(value, str) else value
            for key, value in detail.items()
        },
    )
