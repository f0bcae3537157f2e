"""Rate limits, counted in the shared cache so that all instances count together.

Fixed windows: a counter per (limit, subject, window) that expires with its window. Cheap (one
round trip to Redis per hit), and enough to stop guessing: a burst can reach at most twice the
limit across a window's edge.
"""

from __future__ import annotations

import hashlib
import ipaddress
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.dispatch import Signal

from .cache import shared_redis
from .origin import NOWHERE, Origin

# Sent on the first refusal of a window (sender: the limit's name; origin: the request's), so
# that an attack writes one security event per window, not one per request (events/).
rate_limited = Signal()


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0


def _window(limit: str, subject: str) -> tuple[str, int, int]:
    """The counter's cache key, the limit's count and its window in seconds."""
    count, seconds = settings.RATE_LIMITS[limit]
    digest = hashlib.sha256(subject.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"rl:{limit}:{digest}:{int(time.time() // seconds)}", count, seconds


def _count(key: str, seconds: int) -> int:
    """Add one to the counter and return it. In Redis, INCR and EXPIRE go in one round trip, on
    the key Django's cache would use, so the cache reads and resets the same counter."""
    redis = shared_redis(write=True)
    if redis is None:
        try:
            return cache.incr(key)
        except ValueError:  # the window's first hit
            return 1 if cache.add(key, 1, timeout=seconds + 1) else cache.incr(key)
    stored_key = cache.make_and_validate_key(key)
    pipeline = redis.pipeline(transaction=False)
    pipeline.incr(stored_key)
    pipeline.expire(stored_key, seconds + 1, nx=True)
    used, _ = pipeline.execute()
    return int(used)


def _retry_after(seconds: int) -> int:
    return max(1, int(seconds - time.time() % seconds))


def rate_hit(limit: str, subject: str, *, origin: Origin = NOWHERE) -> Verdict:
    """Count one against `limit` for `subject`; refused once over it. Only the first refusal of
    a window is a security event: an attack must not write a row per request it sends."""
    key, count, seconds = _window(limit, subject)
    used = _count(key, seconds)
    if used <= count:
        return Verdict(True)
    if used == count + 1:
        rate_limited.send(sender=limit, origin=origin)
    return Verdict(False, _retry_after(seconds))


def rate_give_back(limit: str, subject: str) -> None:
    """Take back one counted hit (one that turned out not to be what the limit counts)."""
    key, _, _ = _window(limit, subject)
    try:
        cache.decr(key)
    except ValueError:  # the window has passed
        pass


def rate_reset(limit: str, subject: str) -> None:
    key, _, _ = _window(limit, subject)
    cache.delete(key)


def address_subject(ip_address: str | None) -> str:
    """What an address's limits count: one IPv4 address, or one IPv6 /64 (a single host can
    hold a whole /64 and would otherwise spread its guesses across it). An IPv4 address seen
    through a dual-stack socket or proxy (::ffff:a.b.c.d) is that IPv4 address, not a /64
    shared by every IPv4 client."""
    if not ip_address:
        return "unknown"
    if ":" in ip_address:
        mapped = ipaddress.IPv6Address(ip_address).ipv4_mapped
        if mapped is not None:
            return str(mapped)
        return str(ipaddress.ip_network(f"{ip_address}/64", strict=False))
    return ip_address
