"""Rate limits, counted in the shared cache so that all instances count together.

Fixed windows: a counter per (limit, subject, window) that expires with its window. Cheap (one
round trip to Redis per hit), and enough to stop guessing: a burst can reach at most twice the
limit across a window's edge.

Growing waits (`rate_wait_hit`), for limits that must slow guessing down without handing anyone
a lockout: past a number of attempts, each one makes the next wait twice as long, up to a cap.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.dispatch import Signal

from . import metrics
from .cache import shared_redis
from .origin import NOWHERE, Origin

# Sent on the first refusal of a window (sender: the limit's name; origin: the request's;
# user_id: the person the limit protects, when known), so that an attack writes one security
# event per window, not one per request (events/).
rate_limited = Signal()


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0


def _subject_key(limit: str, subject: str) -> str:
    digest = hashlib.sha256(subject.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"rl:{limit}:{digest}"


def _window(limit: str, subject: str) -> tuple[str, int, int]:
    """The counter's cache key, the limit's count and its window in seconds."""
    count, seconds = settings.RATE_LIMITS[limit]
    return f"{_subject_key(limit, subject)}:{int(time.time() // seconds)}", count, seconds


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


def rate_hit(
    limit: str, subject: str, *, origin: Origin = NOWHERE, user_id: str | None = None
) -> Verdict:
    """Count one against `limit` for `subject`; refused once over it. Only the first refusal of
    a window is a security event: an attack must not write a row per request it sends."""
    key, count, seconds = _window(limit, subject)
    used = _count(key, seconds)
    if used <= count:
        return Verdict(True)
    if used == count + 1:
        rate_limited.send(sender=limit, origin=origin, user_id=user_id)
    metrics.rate_limited.labels(limit).inc()
    return Verdict(False, _retry_after(seconds))


def rate_give_back(limit: str, subject: str) -> None:
    """Take back one counted hit (one that turned out not to be what the limit counts)."""
    key, _, _ = _window(limit, subject)
    try:
        cache.decr(key)
    except ValueError:  # the window has passed
        pass


def rate_wait_hit(
    limit: str, subject: str, *, origin: Origin = NOWHERE, user_id: str | None = None
) -> Verdict:
    """Count one attempt against `limit` for `subject`, unless it comes too soon.

    RATE_LIMITS gives the attempts that need no wait and how long attempts are remembered after
    the last; RATE_DELAYS the first wait and the longest. From the count-th attempt on, each one
    makes the next wait, twice as long each time. A refused attempt is not counted: waiting is
    all it takes. The first refusal while attempts are remembered is a security event."""
    count, seconds = settings.RATE_LIMITS[limit]
    first, longest = settings.RATE_DELAYS[limit]
    key = _subject_key(limit, subject)
    memory = max(seconds, longest) + 1
    until = _wait_step(key, time.time(), count, first, longest, memory)
    if until is None:
        return Verdict(True)
    if cache.add(f"{key}:reported", 1, timeout=memory):
        rate_limited.send(sender=limit, origin=origin, user_id=user_id)
    metrics.rate_limited.labels(limit).inc()
    return Verdict(False, max(1, math.ceil(until - time.time())))


# The check, the count and the next wait in one step, so that guesses sent at once cannot all
# slip through before a wait is set. The wait is a time, not a key's expiry: instances compare
# it with their own clocks (and tests with theirs).
_WAIT_STEP = """
local now = tonumber(ARGV[1])
local waiting = tonumber(redis.call('GET', KEYS[2]) or '0')
if waiting > now then return tostring(waiting) end
local used = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[5])
local count = tonumber(ARGV[2])
if used >= count then
  local delay = math.min(tonumber(ARGV[4]), tonumber(ARGV[3]) * 2 ^ math.min(used - count, 32))
  redis.call('SET', KEYS[2], tostring(now + delay), 'EX', ARGV[5])
end
return false
"""
_local_step = threading.Lock()


def _wait_step(
    key: str, now: float, count: int, first: int, longest: int, memory: int
) -> float | None:
    """None when the attempt may go ahead (and was counted), else until when it must wait."""
    redis = shared_redis(write=True)
    if redis is not None:
        keys = [cache.make_and_validate_key(name) for name in (key, f"{key}:wait")]
        waiting = redis.eval(_WAIT_STEP, 2, *keys, now, count, first, longest, memory)
        return float(waiting) if waiting is not None else None
    with _local_step:  # the local-memory cache serves one process: a lock makes it one step
        waiting = cache.get(f"{key}:wait", 0.0)
        if waiting > now:
            return float(waiting)
        used = cache.get(key, 0) + 1
        cache.set(key, used, timeout=memory)
        if used >= count:
            delay = min(longest, first * 2 ** min(used - count, 32))
            cache.set(f"{key}:wait", now + delay, timeout=memory)
        return None


def rate_wait_reset(limit: str, subject: str) -> None:
    """Forget the attempts and the wait (after a success: whoever it was knew the password)."""
    key = _subject_key(limit, subject)
    cache.delete_many([key, f"{key}:wait", f"{key}:reported"])


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
