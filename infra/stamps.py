"""Knowing, in each process, when state that all processes share has changed.

Processes keep hot, rarely changing rows in memory (signing keys, clients) so that the API and
token paths skip their queries. Whoever changes such rows moves a stamp in the shared cache
(Redis in production); every process looks at the stamp at most every
SHARED_CACHE_CHECK_INTERVAL seconds and drops what it holds when the stamp has moved.
"""

from __future__ import annotations

import threading
import time
import uuid

from django.conf import settings
from django.core.cache import cache


class SharedStamp:
    def __init__(self, key: str) -> None:
        self.key = key
        self.seen: str | None = None
        self.checked_at = float("-inf")
        self.lock = threading.Lock()

    def moved(self, *, look_now: bool = False) -> bool:
        """Whether the stamp moved since this process last looked at it."""
        now = time.monotonic()
        if not look_now and now - self.checked_at < settings.SHARED_CACHE_CHECK_INTERVAL:
            return False
        with self.lock:
            current = cache.get_or_set(self.key, lambda: uuid.uuid4().hex, timeout=None)
            self.checked_at = now
            moved, self.seen = current != self.seen, current
            return moved

    def move(self) -> None:
        """Tell every process (this one at once) that the state changed."""
        cache.set(self.key, uuid.uuid4().hex, timeout=None)
        self.forget()

    def forget(self) -> None:
        self.seen, self.checked_at = None, float("-inf")
