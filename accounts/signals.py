"""Remember when this session signed in: OpenID Connect's `auth_time` and `max_age` need it."""

from __future__ import annotations

import time
from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

AUTH_TIME_SESSION_KEY = "auth_time"


@receiver(user_logged_in)
def remember_auth_time(sender: Any, request: HttpRequest | None, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[AUTH_TIME_SESSION_KEY] = time.time()


def session_auth_time(request: HttpRequest) -> float | None:
    """When this session's person signed in, in seconds since the epoch."""
    value = request.session.get(AUTH_TIME_SESSION_KEY)
    return float(value) if isinstance(value, (int, float)) else None
