"""Links that prove a person reads mail at an address (sign-up, a new address): signed, valid
24 hours, and single use: each carries a fingerprint of the account's email state, which using
the link changes (as Django's PasswordResetTokenGenerator hashes the last login)."""

from __future__ import annotations

import uuid

from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

from .models import User

SALT = "accounts.verification"
MAX_AGE = 24 * 3600


class LinkRefused(Exception):
    """`reason`: "expired", or "invalid" (forged, mangled, used, or its account gone)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def verification_token(user: User, address: str) -> str:
    """A link's token saying that whoever holds it reads mail at `address`."""
    return signing.dumps(
        {"user": str(user.pk), "address": address, "state": _state(user)}, salt=SALT
    )


def verification_check(token: str) -> tuple[User, str]:
    """The account and the address a token proves, or LinkRefused."""
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.SignatureExpired:
        raise LinkRefused("expired") from None
    except signing.BadSignature:
        raise LinkRefused("invalid") from None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in _FIELDS):
        raise LinkRefused("invalid")
    try:
        user_id = uuid.UUID(data["user"])
    except ValueError:
        raise LinkRefused("invalid") from None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not constant_time_compare(data["state"], _state(user)):
        raise LinkRefused("invalid")
    return user, data["address"]


_FIELDS = ("user", "address", "state")


def _state(user: User) -> str:
    """Changes when a link is used (the email verified or changed), and with the password."""
    material = f"{user.email}\0{user.email_verified}\0{user.password}"
    return salted_hmac(SALT, material).hexdigest()[:24]
