"""What happens when someone signs in: the time is remembered for OpenID Connect's `auth_time`
and `max_age`, and so is the time credentials were last presented (for `prompt=login`);
successes and failures are security events."""

from __future__ import annotations

import time
from typing import Any

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from oauth.events import Kind, Origin, event_record

from .backends import user_for_login

AUTH_TIME_SESSION_KEY = "auth_time"
CREDENTIALS_TIME_SESSION_KEY = "credentials_time"


@receiver(user_logged_in)
def remember_auth_time(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """A sign-in through a provider presents credentials only when the provider was asked to
    take them again (upstream.py sets `upstream_reauthenticated`): otherwise its session may
    have answered with one click."""
    if request is None or not hasattr(request, "session"):
        return
    now = time.time()
    request.session[AUTH_TIME_SESSION_KEY] = now
    upstream = getattr(user, "upstream_provider", None)
    if upstream is None or getattr(user, "upstream_reauthenticated", False):
        request.session[CREDENTIALS_TIME_SESSION_KEY] = now


@receiver(user_logged_in)
def record_sign_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    method = getattr(user, "upstream_provider", None) or "password"
    event_record(Kind.SIGN_IN, origin=Origin.of(request), user_id=user.pk, method=method)


@receiver(user_login_failed)
def record_failed_sign_in(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    """The account tried, if the login names one. What was typed is not kept: it may be a
    password typed into the wrong field."""
    tried = credentials.get("username")
    user = user_for_login(tried) if isinstance(tried, str) else None
    event_record(
        Kind.SIGN_IN_FAILED,
        origin=Origin.of(request),
        user_id=user.pk if user else None,
        method="password",
    )


def session_auth_time(request: HttpRequest) -> float | None:
    """When this session's person signed in, in seconds since the epoch."""
    return _session_time(request, AUTH_TIME_SESSION_KEY)


def session_credentials_time(request: HttpRequest) -> float | None:
    """When this session's person last presented credentials: a password, or a provider that
    was asked to take them again."""
    return _session_time(request, CREDENTIALS_TIME_SESSION_KEY)


def _session_time(request: HttpRequest, key: str) -> float | None:
    value = request.session.get(key)
    return float(value) if isinstance(value, (int, float)) else None
