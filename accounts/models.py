"""People who sign in to this server."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person. The random UUID is the OpenID Connect `sub`: stable, and reveals no count."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # A whole name as written, where it cannot be split into given and family names (Naver and
    # Kakao give one string; 홍길동 has no space to split at).
    name = models.CharField(
        _("name"), max_length=255, blank=True, help_text=_("The whole name, as it is written.")
    )
    email_verified = models.BooleanField(
        default=False, help_text="Whether this server has confirmed that the email is theirs."
    )
    picture = models.URLField(
        _("picture"),
        max_length=1000,
        blank=True,
        help_text=_("From the provider last signed in with."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        constraints = [
            # Sign-in accepts an email in place of the username, so an email names one account.
            models.UniqueConstraint(
                Lower("email"), condition=~models.Q(email=""), name="user_email_unique_ci"
            ),
        ]

    def get_full_name(self) -> str:
        return self.name or super().get_full_name()

    @property
    def sub(self) -> str:
        return str(self.pk)

    def get_user_id(self) -> str:
        """authlib's name for the subject identifier."""
        return self.sub


def users_with_email(email: str) -> models.QuerySet[User]:
    """The account holding `email`, compared the way the unique constraint compares: lower-cased
    by the database. (`email__iexact` upper-cases, and a few characters, such as the Kelvin sign,
    are equal one way and not the other: a check would pass that the insert then fails.)"""
    return (
        User.objects.exclude(email="")
        .alias(email_lower=Lower("email"))
        .filter(email_lower=Lower(models.Value(email)))
    )


class SocialIdentity(models.Model):
    """A person's account at Google, Naver or Kakao, linked to their account here.

    Keyed on (provider, uid): the provider's stable id, never the email, which can change.
    """

    class Provider(models.TextChoices):
        GOOGLE = "google", "Google"
        NAVER = "naver", _("Naver")
        KAKAO = "kakao", _("Kakao")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="identities")
    provider = models.CharField(max_length=16, choices=Provider.choices)
    uid = models.CharField(max_length=255)
    email = models.EmailField(blank=True, max_length=254)
    email_verified = models.BooleanField(
        default=False, help_text="Whether the provider vouched that the email is theirs."
    )
    name = models.CharField(max_length=255, blank=True)
    picture = models.URLField(max_length=1000, blank=True)
    first_login_at = models.DateTimeField(default=timezone.now)
    last_login_at = models.DateTimeField(default=timezone.now)
    raw_profile = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "uid"], name="identity_provider_uid_unique")
        ]
        verbose_name_plural = "social identities"

    def __str__(self) -> str:
        return f"{self.get_provider_display()} {self.uid}"
