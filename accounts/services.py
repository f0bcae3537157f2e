"""Signing in through a provider: which account a provider identity belongs to, and linking and
unlinking identities."""

from __future__ import annotations

import re
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from events.recording import Kind, event_record
from infra.origin import NOWHERE, Origin
from infra.untrusted import printable, storable

from .models import SocialIdentity, User, users_with_email
from .providers import Profile
from .unlinks import provider_unlink_queue


class IdentityError(Exception):
    """A sign-in or (un)link the rules refuse; `reason` picks the message shown."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def upstream_login_complete(
    *, profile: Profile, current_user: User | None = None, origin: Origin = NOWHERE
) -> User:
    """The account `profile` signs in to, creating or linking what is needed, all or nothing.

    A known identity signs in its account. A signed-in person who adds a provider links it to
    their account. Otherwise the identity joins an existing account by email only when the
    provider vouches for the email and the account's email is verified here; else it starts a
    new account. Failed password attempts never stand in the way: the provider's sign-in is
    proof from elsewhere, and a stranger's guessing must not shut the owner out.
    """
    try:
        with transaction.atomic():
            return _identity_user(profile, current_user, origin)
    except IntegrityError:
        # Someone (another tab, a double click) linked this identity a moment ago: use theirs.
        with transaction.atomic():
            return _identity_user(profile, current_user, origin)


def _identity_user(profile: Profile, current_user: User | None, origin: Origin) -> User:
    now = timezone.now()
    identity = (
        SocialIdentity.objects.select_for_update()
        .select_related("user")
        .filter(provider=profile.provider, uid=profile.uid)
        .first()
    )
    if identity is not None:
        if current_user is not None and identity.user_id != current_user.pk:
            raise IdentityError("linked_elsewhere")
        if not identity.user.is_active:
            raise IdentityError("inactive")
        _identity_update(identity, profile, now)
        _picture_update(identity.user, profile)
        return identity.user
    if current_user is not None:
        user = current_user
    else:
        joined = _user_by_vouched_email(profile)
        user = joined or _user_create(profile)
    _picture_update(user, profile)
    SocialIdentity.objects.create(
        user=user,
        provider=profile.provider,
        uid=profile.uid,
        first_login_at=now,
        **_identity_fields(profile, now),
    )
    if current_user is not None:
        event_record(
            Kind.IDENTITY_LINKED, origin=origin, user_id=user.pk, provider=profile.provider
        )
    return user


def _identity_update(identity: SocialIdentity, profile: Profile, now: datetime) -> None:
    for name, value in _identity_fields(profile, now).items():
        setattr(identity, name, value)
    identity.save()


def _picture_update(user: User, profile: Profile) -> None:
    """The picture of the provider the person signed in with last, when it gives one."""
    picture = printable(profile.picture, 1000)
    if picture and picture != user.picture:
        user.picture = picture
        user.save(update_fields=["picture", "updated_at"])


def _identity_fields(profile: Profile, now: datetime) -> dict[str, object]:
    """What a provider says, made safe to store (no control characters, bounded lengths)."""
    return {
        "email": printable(profile.email, 254),
        "email_verified": profile.email_verified,
        "name": printable(profile.name, 255),
        "picture": printable(profile.picture, 1000),
        "last_login_at": now,
        "raw_profile": storable(profile.raw),
    }


def _user_by_vouched_email(profile: Profile) -> User | None:
    """Both sides must vouch: the provider for its email, this server for the account's. A
    disabled account stays disabled: it is not replaced by a fresh one."""
    if not (profile.email and profile.email_verified):
        return None
    user = users_with_email(profile.email).filter(email_verified=True).first()
    if user is not None and not user.is_active:
        raise IdentityError("inactive")
    return user


def _user_create(profile: Profile) -> User:
    """A new account, with the provider's email unless another account holds it. An account
    that holds it unproven gives it up to a provider that vouches for it: otherwise anyone could
    claim someone's address through a provider that does not check (Naver's contact email),
    and its owner could never have it."""
    if not profile.email:
        # An account we could never reach; the person can allow email access and try again.
        raise IdentityError("email_missing")
    holder = users_with_email(profile.email).select_for_update().first()
    if holder is not None and profile.email_verified and not holder.email_verified:
        holder.email = ""
        holder.save(update_fields=["email"])
        holder = None
    user = User(
        username=_free_username(profile),
        email=printable(profile.email, 254) if holder is None else "",
        email_verified=holder is None and profile.email_verified,
        name=printable(profile.name, 255),
        first_name=printable(profile.given_name, 150),
        last_name=printable(profile.family_name, 150),
        picture=printable(profile.picture, 1000),
    )
    user.set_unusable_password()
    user.save()
    return user


def _free_username(profile: Profile) -> str:
    return username_free(profile.email.split("@")[0], fallback=profile.provider)


def username_free(wanted: str, *, fallback: str = "user") -> str:
    """A username no account has, made of what `wanted` holds that a username may (a number
    added when another account has it already)."""
    stem = re.sub(r"[^\w.@+-]", "", wanted)[:100] or fallback
    candidate, suffix = stem, 1
    while User.objects.filter(username__iexact=candidate).exists():
        suffix += 1
        candidate = f"{stem}{suffix}"
    return candidate


def identity_unlink(*, user: User, identity_id: int, origin: Origin = NOWHERE) -> SocialIdentity:
    """Refused for the last way to sign in: an account without a password and no other link.
    Kakao is told too, by the worker (unlinks.py), so that the person need not unlink there."""
    with transaction.atomic():
        # The account's row first: two unlinks at once must not each see the other's link.
        User.objects.select_for_update().filter(pk=user.pk).first()
        identity = (
            SocialIdentity.objects.select_for_update().filter(pk=identity_id, user=user).first()
        )
        if identity is None:
            raise IdentityError("not_found")
        others = SocialIdentity.objects.filter(user=user).exclude(pk=identity.pk).exists()
        if not others and not user.has_usable_password():
            raise IdentityError("last_sign_in")
        identity.delete()
        told = provider_unlink_queue(identities=[identity])
    event_record(Kind.IDENTITY_UNLINKED, origin=origin, user_id=user.pk,
                 provider=identity.provider, by="person", provider_told=bool(told))  # fmt: skip
    return identity
