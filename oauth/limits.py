"""Rate limits at the protocol endpoints: over one, the protocol's 429 (errors.TooManyRequests)."""

from __future__ import annotations

from infra.origin import NOWHERE, Origin
from infra.ratelimit import rate_hit

from .errors import TooManyRequests


def limit_hit(limit: str, subject: str, origin: Origin = NOWHERE) -> None:
    """Count one against `limit`; over it, the protocol's 429 (TooManyRequests)."""
    verdict = rate_hit(limit, subject, origin=origin)
    if not verdict.allowed:
        raise TooManyRequests(verdict.retry_after)
