"""What people granted clients: grants (token families), authorization codes and refresh tokens,
registered with the oauth app by models.py, which imports them (Client stays there)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Client
from .people import Person


class GrantQuerySet(models.QuerySet["Grant"]):
    def active(self) -> GrantQuerySet:
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


class Grant(models.Model):
    """One person's authorization of one client: a family of refresh tokens and access tokens.

    Access tokens carry the grant's id, so revoking the grant ends the whole family.
    """

    id = models.UUIDField(_("id"), primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, verbose_name=_("user")
    )
    client = models.ForeignKey(Client, on_delete=models.CASCADE, verbose_name=_("client"))
    scope = models.TextField(_("scope"))
    auth_time = models.DateTimeField(
        _("auth time"), help_text=_("When the person signed in to authorize it.")
    )
    # The sign-in session it was issued in (the id_token's `sid`): ending that session tells
    # the client (back-channel logout).
    sid = models.CharField(_("sid"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(
        _("expires at"), help_text=_("The absolute end of the grant's refresh tokens.")
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    # Unique: a code starts at most one grant, so inserting the grant is what uses up the code.
    authorization_code = models.OneToOneField(
        "AuthorizationCode",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="grant",
        verbose_name=_("authorization code"),
    )

    objects = GrantQuerySet.as_manager()

    class Meta:
        verbose_name = _("grant")
        verbose_name_plural = _("grants")
        # The grants issued in a session, when it ends (models.Index: no LIKE-pattern index).
        indexes = [models.Index(fields=["sid"], name="grant_sid")]

    def __str__(self) -> str:
        return f"{self.client} for {self.user}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


def unique_hash(field: str, name: str) -> models.UniqueConstraint:
    """Codes and tokens are found by the exact hash of what was presented. Declared as a
    constraint rather than `unique=True`, which on PostgreSQL adds a LIKE-pattern index beside
    the unique one: no exact lookup uses it, and every token response would write to it."""
    return models.UniqueConstraint(fields=[field], name=name)


class AuthorizationCode(models.Model):
    """An issued code, kept after use so that a replay can be detected (RFC 6749 §4.1.2).

    It is used once it has started a grant (`Grant.authorization_code`).
    """

    code_hash = models.CharField(_("code hash"), max_length=64)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, verbose_name=_("client"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, verbose_name=_("user")
    )
    redirect_uri = models.TextField(_("redirect uri"), blank=True)
    scope = models.TextField(_("scope"))
    nonce = models.TextField(_("nonce"), blank=True)
    code_challenge = models.CharField(_("code challenge"), max_length=128, blank=True)
    code_challenge_method = models.CharField(_("code challenge method"), max_length=10, blank=True)
    auth_time = models.DateTimeField(_("auth time"))
    sid = models.CharField(
        _("sid"), max_length=64, blank=True, help_text=_("The sign-in session's id.")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"), db_index=True)

    class Meta:
        verbose_name = _("authorization code")
        verbose_name_plural = _("authorization codes")
        constraints = [unique_hash("code_hash", "code_hash_unique")]

    def __str__(self) -> str:
        return f"code for {self.client} ({self.code_hash[:8]}…)"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def issued_grant(self) -> Grant | None:
        """The grant this code started, if it has been exchanged."""
        try:
            return self.grant
        except Grant.DoesNotExist:
            return None

    # authlib's AuthorizationCodeMixin (OpenID Connect flavour)

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce or None

    def get_auth_time(self) -> int:
        return int(self.auth_time.timestamp())

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None


class RefreshToken(models.Model):
    """One refresh token of a grant. Rotation marks it used; presenting it again is theft, unless
    it comes within REFRESH_RETRY_GRACE, as a retry (retries.py)."""

    token_hash = models.CharField(_("token hash"), max_length=64)
    grant = models.ForeignKey(
        Grant, on_delete=models.CASCADE, related_name="refresh_tokens", verbose_name=_("grant")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"), db_index=True)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    # The answer to the request that used this token, sealed with a key only the token yields,
    # written by the same statement that sets used_at; for retries within the grace only.
    retry_answer = models.BinaryField(_("retry answer"), null=True, blank=True)

    class Meta:
        verbose_name = _("refresh token")
        verbose_name_plural = _("refresh tokens")
        constraints = [unique_hash("token_hash", "refresh_token_hash_unique")]

    def __str__(self) -> str:
        return f"refresh token {self.token_hash[:8]}…"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    # authlib's TokenMixin

    def check_client(self, client: Client) -> bool:
        return self.grant.client_id == client.pk

    def get_scope(self) -> str:
        return self.grant.scope

    def get_expires_in(self) -> int:
        return max(0, int((self.expires_at - timezone.now()).total_seconds()))

    def is_revoked(self) -> bool:
        return self.used_at is not None or not self.grant.is_active

    def get_user(self) -> Person:
        return self.grant.user

    def get_client(self) -> Client:
        return self.grant.client


def refresh_token_expiry(grant: Grant, client: Client, now: datetime) -> datetime:
    """Idle lifetime from now, never past the grant's absolute end."""
    return min(now + timedelta(seconds=client.refresh_token_seconds()), grant.expires_at)
