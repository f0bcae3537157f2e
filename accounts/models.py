"""People who sign in to this server."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.base import ModelBase
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from infra.outbox import OutboxRow

from .emails import email_canonical


class User(AbstractUser):
    """A person. The random UUID is the OpenID Connect `sub`: stable, and reveals no count."""

    id = models.UUIDField(_("id"), primary_key=True, default=uuid.uuid4, editable=False)
    # A whole name as written, where it cannot be split into given and family names (Naver and
    # Kakao give one string; 홍길동 has no space to split at).
    name = models.CharField(
        _("name"), max_length=255, blank=True, help_text=_("The whole name, as it is written.")
    )
    email_verified = models.BooleanField(
        _("email verified"),
        default=False,
        help_text=_("Whether this server has confirmed that the email is theirs."),
    )
    picture = models.URLField(
        _("picture"),
        max_length=1000,
        blank=True,
        help_text=_("From the provider last signed in with."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # The email as accounts are compared by it (accounts/emails.py), kept by save(); NULL when
    # there is no email or it has no canonical form. NULL rather than "" so that one plain
    # unique index both keeps it unique and finds it (a partial index is of no use to a
    # prepared statement's generic plan, and the connection prepares them).
    email_canonical = models.CharField(  # noqa: DJ001  (NULL: none, and unique among none)
        _("email canonical"),
        max_length=254,
        null=True,
        blank=True,
        editable=False,
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            # Sign-in accepts an email in place of the username, so an email names one account.
            models.UniqueConstraint(fields=["email_canonical"], name="user_email_canonical_unique"),
        ]

    def save(
        self,
        *,
        force_insert: bool | tuple[ModelBase, ...] = False,
        force_update: bool = False,
        using: str | None = None,
        update_fields: Iterable[str] | None = None,
    ) -> None:
        """Saving the email saves its canonical form with it, whichever way it is saved."""
        if update_fields is None or "email" in update_fields:
            self.email_canonical = email_canonical(self.email)
            if update_fields is not None:
                update_fields = {*update_fields, "email_canonical"}
        super().save(
            force_insert=force_insert,
            force_update=force_update,
            using=using,
            update_fields=update_fields,
        )

    def validate_constraints(self, exclude: Collection[str] | None = None) -> None:
        """The email checked as the unique constraint will check it, so that the admin's form
        says what is wrong with it instead of failing with a 500."""
        exclude = {*(exclude or ()), "email_canonical"}  # on no form: its errors are the email's
        errors: dict[str, Any] = {}
        try:
            super().validate_constraints(exclude=exclude)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if "email" not in exclude and (refusal := self._email_refusal()) is not None:
            errors.setdefault("email", []).append(refusal)
        if errors:
            raise ValidationError(errors)

    def _email_refusal(self) -> ValidationError | None:
        if not self.email:
            return None
        if email_canonical(self.email) is None:
            message = _("Enter an address with one @, a valid domain name and no quotes or spaces.")
            return ValidationError(message, code="invalid")
        if users_with_email(self.email).exclude(pk=self.pk).exists():
            return ValidationError(_("Another account has this email address."), code="unique")
        return None

    def get_full_name(self) -> str:
        return self.name or super().get_full_name()

    @property
    def sub(self) -> str:
        return str(self.pk)

    def get_user_id(self) -> str:
        """authlib's name for the subject identifier."""
        return self.sub


def users_with_email(email: str) -> models.QuerySet[User]:
    """The account holding `email`: the one place accounts are looked up by email, by the
    canonical form the unique constraint keeps unique (none for an address that has none)."""
    canonical = email_canonical(email)
    if canonical is None:
        return User.objects.none()
    return User.objects.filter(email_canonical=canonical)


class SocialIdentity(models.Model):
    """A person's account at Google, Naver or Kakao, linked to their account here.

    Keyed on (provider, uid): the provider's stable id, never the email, which can change.
    """

    class Provider(models.TextChoices):
        GOOGLE = "google", "Google"
        NAVER = "naver", _("Naver")
        KAKAO = "kakao", _("Kakao")

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="identities", verbose_name=_("user")
    )
    provider = models.CharField(_("provider"), max_length=16, choices=Provider.choices)
    uid = models.CharField(_("uid"), max_length=255)
    email = models.EmailField(_("email"), blank=True, max_length=254)
    email_verified = models.BooleanField(
        _("email verified"),
        default=False,
        help_text=_("Whether the provider vouched that the email is theirs."),
    )
    name = models.CharField(_("name"), max_length=255, blank=True)
    picture = models.URLField(_("picture"), max_length=1000, blank=True)
    first_login_at = models.DateTimeField(_("first login at"), default=timezone.now)
    last_login_at = models.DateTimeField(_("last login at"), default=timezone.now)
    raw_profile = models.JSONField(_("raw profile"), default=dict, blank=True)

    class Meta:
        verbose_name = _("social identity")
        verbose_name_plural = _("social identities")
        constraints = [
            models.UniqueConstraint(fields=["provider", "uid"], name="identity_provider_uid_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} {self.uid}"


class UnlinkNotice(models.Model):
    """A provider telling us that a person unlinked our service, kept from the moment it
    arrives: settled once the link is gone (accounts/unlinking.py), retried until then."""

    provider = models.CharField(
        max_length=16, choices=SocialIdentity.Provider.choices, verbose_name=_("provider")
    )
    uid = models.CharField(max_length=255, verbose_name=_("uid"))
    reason = models.CharField(
        max_length=64, blank=True, help_text=_("Kakao's referrer_type."), verbose_name=_("reason")
    )
    received_at = models.DateTimeField(default=timezone.now, verbose_name=_("received at"))
    settled_at = models.DateTimeField(null=True, blank=True, verbose_name=_("settled at"))
    # Once settled: whose link it was, whether that left the account no way to sign in, and
    # when the person read about it on their account page (views.home).
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="unlink_notices",
        verbose_name=_("user"),
    )  # fmt: skip
    no_way_in = models.BooleanField(
        default=False, verbose_name=_("no way in left"),
        help_text=_("The account had no other way to sign in: its apps' access ended."),
    )  # fmt: skip
    dismissed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("read at"))

    class Meta:
        verbose_name = _("unlink notice")
        verbose_name_plural = _("unlink notices")

    def __str__(self) -> str:
        return f"{self.provider} {self.uid} unlinked at {self.received_at:%Y-%m-%d %H:%M:%S}"


class SignInSession(models.Model):
    """A sign-in session as the server knows it: the person can list and end it, and once ended
    it is over everywhere. `sid` names it to apps (the id_token's `sid`); the Django session key
    that carries it is a secret and is kept only to end that session."""

    sid = models.CharField(max_length=64, verbose_name=_("sid"))
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="sign_in_sessions", verbose_name=_("user")
    )
    session_key = models.CharField(max_length=40, blank=True, verbose_name=_("session key"))
    method = models.CharField(
        max_length=16, blank=True, help_text=_("password, or a provider"), verbose_name=_("method")
    )
    identity_uid = models.CharField(
        max_length=255, blank=True, verbose_name=_("identity uid"),
        help_text=_("The provider's uid, when signed in through one: its unlink ends the session."),
    )  # fmt: skip
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    last_seen_at = models.DateTimeField(default=timezone.now, verbose_name=_("last seen at"))
    ended_at = models.DateTimeField(null=True, blank=True, verbose_name=_("ended at"))
    ip_address = models.GenericIPAddressField(null=True, blank=True, verbose_name=_("IP address"))
    user_agent = models.CharField(max_length=300, blank=True, verbose_name=_("user agent"))

    class Meta:
        verbose_name = _("sign-in session")
        verbose_name_plural = _("sign-in sessions")
        constraints = [models.UniqueConstraint(fields=["sid"], name="sign_in_session_sid_unique")]

    def __str__(self) -> str:
        return f"session {self.sid[:8]}… of {self.user_id}"


class ProviderUnlink(OutboxRow):
    """A provider to be told that a withdrawn person's account here is gone (Kakao's unlink
    API), sent by the worker (infra/outbox.py). The uid is all that is kept of the person."""

    provider = models.CharField(
        max_length=16, choices=SocialIdentity.Provider.choices, verbose_name=_("provider")
    )
    uid = models.CharField(max_length=255, verbose_name=_("uid"))

    class Meta(OutboxRow.Meta):
        verbose_name = _("provider unlink")
        verbose_name_plural = _("provider unlinks")

    def __str__(self) -> str:
        return f"unlink {self.provider} {self.uid}"
