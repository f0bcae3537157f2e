"""Where a request came from: what rate limits count by and security events record."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest

from .untrusted import printable


@dataclass(frozen=True)
class Origin:
    """A request's address and browser, as much as the server keeps of them."""

    ip_address: str | None = None
    user_agent: str = ""

    @classmethod
    def of(cls, request: HttpRequest | None) -> Origin:
        """Where `request` came from, worked out once per request (several layers ask)."""
        if request is None:
            return cls()
        known: Origin | None = getattr(request, "_origin", None)
        if known is None:
            known = cls._of(request)
            setattr(request, "_origin", known)  # noqa: B010  (HttpRequest declares no such field)
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
