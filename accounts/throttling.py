"""What a password attempt counts against, so that guessing stays slow and no stranger can lock
a person out.

OWASP's "device cookies": a browser that signed in to an account with its password carries a
signed cookie naming the account and a random nonce. Its attempts at that account are counted
per device, apart from everyone else's, so strangers failing elsewhere never refuse it. Other
browsers are counted per address (a window, then refused) and per account (growing waits, never
a lock). All of it lives in the shared cache: no SQL on the way to the password check.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.urls import reverse

from infra.origin import Origin
from infra.ratelimit import rate_give_back, rate_hit, rate_wait_hit, rate_wait_reset

from .models import User

DEVICE_COOKIE = "device"
DEVICE_SALT = "accounts.device"  # signed for this use only: no other signed value passes for it


@dataclass(frozen=True)
class Attempt:
    """One password attempt as counted: against its device (`device`, a nonce) or, from any
    other browser, against its address and the account it names."""

    allowed: bool
    retry_after: int
    address: str
    account: str
    device: str | None = None


def attempt_count(request: HttpRequest, subjects: list[tuple[str, str]]) -> Attempt:
    """Count one attempt before its password is checked, so that guesses sent at once all count.
    `subjects` are sign_in_subjects': the address's, then the account's (`user:<id>` for an
    account that exists, so an unknown name is counted, and answered, the same way)."""
    (_, address), (_, account) = subjects
    origin = Origin.of(request)
    user_id = account.removeprefix("user:") if account.startswith("user:") else None
    device = device_of(request)
    if device is not None and user_id is not None and device[0] == user_id:
        if rate_hit("sign_in_device", device[1], origin=origin, user_id=user_id).allowed:
            return Attempt(True, 0, address, account, device=device[1])
        # A device failing this often is no longer trusted: it counts as a stranger's.
    verdict = rate_hit("sign_in_address", address, origin=origin)
    if verdict.allowed:
        verdict = rate_wait_hit("sign_in_account", account, origin=origin, user_id=user_id)
    return Attempt(verdict.allowed, verdict.retry_after, address, account)


def attempt_succeeded(attempt: Attempt) -> None:
    """A success was no failure. From an unknown browser whoever it was knew the password: the
    account's waits start afresh and the address gets its one back. A device's success leaves
    strangers' waits in place; its new cookie starts a new allowance."""
    if attempt.device is None:
        rate_wait_reset("sign_in_account", attempt.account)
        rate_give_back("sign_in_address", attempt.address)


def device_of(request: HttpRequest) -> tuple[str, str] | None:
    """The account id and nonce of the browser's device cookie, if it is ours, intact and not
    too old (the signature carries the time it was set)."""
    value = request.get_signed_cookie(
        DEVICE_COOKIE, default=None, salt=DEVICE_SALT, max_age=settings.DEVICE_COOKIE_AGE
    )
    user_id, _, nonce = (value or "").partition(":")
    return (user_id, nonce) if user_id and nonce else None


def device_remember(request: HttpRequest, response: HttpResponseBase, user: User) -> None:
    """A new device cookie at each password sign-in: a fresh nonce, so a device that had used
    up its allowance starts again once it has proved itself."""
    response.set_signed_cookie(
        DEVICE_COOKIE,
        f"{user.pk}:{secrets.token_urlsafe(16)}",
        salt=DEVICE_SALT,
        max_age=settings.DEVICE_COOKIE_AGE,
        path=reverse("accounts:login"),
        secure=settings.SESSION_COOKIE_SECURE or request.is_secure(),
        httponly=True,
        samesite="Lax",
    )
