"""Security events: written by the flows, one INSERT each, read by operators in the admin."""

from __future__ import annotations

import ipaddress
import re
import uuid
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from .models import SecurityEvent

Kind = SecurityEvent.Kind
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def printable(value: str, limit: int) -> str:
    """Outside text made safe to store: no control characters (PostgreSQL refuses NUL)."""
    return CONTROL_CHARACTERS.sub("", value)[:limit]


@dataclass(frozen=True)
class Origin:
    """Where a request came from, as much as an event records."""

    ip_address: str | None = None
    user_agent: str = ""

    @classmethod
    def of(cls, request: HttpRequest | None) -> Origin:
        if request is None:
            return cls()
        address = request.META.get("REMOTE_ADDR", "")
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
    SecurityEvent.objects.create(
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
