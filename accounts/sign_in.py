"""Signing a person in to this session, whichever way they proved who they are, and what is
recorded of it: when, and whether they presented credentials (the authorization endpoint asks,
see oauth/sign_in.py), and a security event; failures are security events too."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from django.contrib.auth import login
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from events.recording import Kind, event_record
from infra import metrics
from infra.origin import Origin
from oauth.sign_in import sign_in_record

from .backends import user_for_login
from .models import User
from .sessions import session_start

BACKEND = "accounts.backends.UsernameOrEmailBackend"

# How the sign-in under way was made: "password" or a provider's id, whether credentials were
# presented, and the provider's uid. Any other login (Django's own views, a test's force_login)
# is a password's.
_method: ContextVar[tuple[str, bool, str]] = ContextVar(
    "sign_in_method", default=("password", True, "")
)


def sign_in_complete(
    request: HttpRequest,
    user: User,
    *,
    method: str,
    credentials_presented: bool,
    identity_uid: str = "",
) -> None:
    """Sign `user` in to this session. A provider's sign-in presents credentials only when the
    provider was asked to take them again: otherwise its session may have answered with one
    click. `identity_uid` names the provider's identity, whose unlink ends the session."""
    made = _method.set((method, credentials_presented, identity_uid))
    try:
        login(request, user, backend=BACKEND)
    finally:
        _method.reset(made)


@receiver(user_logged_in)
def record_sign_in(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    method, credentials_presented, identity_uid = _method.get()
    if request is not None and hasattr(request, "session"):
        # A new session key for every sign-in, the same person's again included (Django keeps
        # the key then): nothing holds on to the session as it was before.
        request.session.cycle_key()
        sid = session_start(request, user, method=method, identity_uid=identity_uid)
        sign_in_record(request, credentials_presented=credentials_presented, sid=sid)
    event_record(Kind.SIGN_IN, origin=Origin.of(request), user_id=user.pk, method=method)
    metrics.sign_ins.labels(method, "success").inc()


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
    metrics.sign_ins.labels("password", "failure").inc()
