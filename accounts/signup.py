"""Creating a password account and proving its email address (sign-up, a changed address).

An address already taken gets the same answer as a fresh one, and its holder is mailed instead:
the page tells no one which addresses have accounts here.
"""

from __future__ import annotations

from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse

from events.recording import Kind, event_record
from infra.origin import Origin

from .mail import mail_send
from .models import User, users_with_email
from .services import username_free
from .verification import verification_token


class AddressTaken(Exception):
    """Another account holds the address a link proves (it took it since the link was sent)."""


def signup_start(*, request: HttpRequest, email: str, password: str) -> None:
    """A new account holding `email` unverified, and the link that verifies it; or, when the
    address is taken, a note to its holder. All or nothing: if the mail cannot be sent
    (MailNotSent), no account is left behind."""
    origin = Origin.of(request)
    hashed = make_password(password)  # in both cases, so that timing tells nothing either
    with transaction.atomic():
        holder = users_with_email(email).select_for_update().first()
        if holder is not None:
            context = {"email": holder.email, "reset_url": _absolute(request, "password_reset")}
            mail_send(to=holder.email, kind="signup_taken", context=context)
            return
        user = User(username=username_free(email.split("@")[0]), email=email, password=hashed)
        user.save()
        verification_send(request=request, user=user, address=email)
    event_record(Kind.SIGNED_UP, origin=origin, user_id=user.pk)


def verification_send(*, request: HttpRequest, user: User, address: str) -> None:
    """Mail `address` the link that proves it (MailNotSent if the mail server fails)."""
    token = verification_token(user, address)
    url = request.build_absolute_uri(reverse("accounts:verify", args=[token]))
    kind = "verify" if address == user.email else "verify_new_address"
    mail_send(to=address, kind=kind, context={"email": address, "url": url})


def email_confirm(*, user: User, address: str, origin: Origin) -> str | None:
    """The account's email becomes `address`, verified. The old address, when there was another
    one, is returned, to be told of the change."""
    previous = user.email
    with transaction.atomic():
        if users_with_email(address).exclude(pk=user.pk).exists():
            raise AddressTaken(address)
        user.email = address
        user.email_verified = True
        try:
            with transaction.atomic():
                user.save(update_fields=["email", "email_verified", "updated_at"])
        except IntegrityError:
            raise AddressTaken(address) from None
    changed = previous and previous != address
    event_record(Kind.EMAIL_CHANGED if changed else Kind.EMAIL_VERIFIED, origin=origin,
                 user_id=user.pk)  # fmt: skip
    return previous if changed else None


def _absolute(request: HttpRequest, name: str) -> str:
    return request.build_absolute_uri(reverse(f"accounts:{name}"))
