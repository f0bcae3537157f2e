"""The security event log. Never a secret in it: a username tried, a count, a client, a reason."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SecurityEvent(models.Model):
    """Something that happened that an operator may need to look at later.

    `user` is the person it happened to; `actor` the operator who did it, for what operators do
    in the admin (a client disabled, a grant revoked)."""

    class Kind(models.TextChoices):
        SIGN_IN = "sign_in", _("Signed in")
        SIGN_IN_FAILED = "sign_in_failed", _("Sign-in failed")
        TOKENS_ISSUED = "tokens_issued", _("Tokens issued")
        TOKENS_REFRESHED = "tokens_refreshed", _("Tokens refreshed")
        REFRESH_TOKEN_REUSED = "refresh_token_reused", _("Refresh token reused")
        CODE_REPLAYED = "code_replayed", _("Authorization code replayed")
        CLIENT_CREATED = "client_created", _("Client created")
        CLIENT_CHANGED = "client_changed", _("Client changed")
        CLIENT_DELETED = "client_deleted", _("Client deleted")
        CLIENT_SECRET_ROTATED = "client_secret_rotated", _("Client secret rotated")
        CLIENT_DISABLED = "client_disabled", _("Client disabled")
        CLIENT_ENABLED = "client_enabled", _("Client enabled")
        GRANTS_REVOKED = "grants_revoked", _("Grants revoked")
        CONSENT_GRANTED = "consent_granted", _("Consent granted")
        CONSENT_REVOKED = "consent_revoked", _("Consent revoked")
        KEY_ROTATED = "key_rotated", _("Signing key rotated")
        IDENTITY_LINKED = "identity_linked", _("Provider account linked")
        IDENTITY_UNLINKED = "identity_unlinked", _("Provider account unlinked")
        RATE_LIMITED = "rate_limited", _("Rate limit reached")
        UNLINK_REFUSED = "unlink_refused", _("Unlink notice refused")
        SIGNED_UP = "signed_up", _("Signed up")
        EMAIL_VERIFIED = "email_verified", _("Email address verified")
        EMAIL_CHANGED = "email_changed", _("Email address changed")
        PASSWORD_RESET = "password_reset", _("Password reset")
        PASSWORD_CHANGED = "password_changed", _("Password changed")
        SESSIONS_ENDED = "sessions_ended", _("Sessions ended")
        ACCOUNT_DELETED = "account_deleted", _("Account deleted")
        LOGOUT_UNDELIVERED = "logout_undelivered", _("Logout not delivered to a client")
        UNLINK_UNDELIVERED = "unlink_undelivered", _("Provider unlink not delivered")

    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        verbose_name=_("user"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        # No index: operators act rarely, and building one would lock the largest table.
        db_index=False,
        help_text=_("The operator who did it, when an operator did."),
        verbose_name=_("actor"),
    )
    client = models.ForeignKey(
        "oauth.Client", null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("client")
    )
    # For the events of an account since deleted: the same stand-in for all of them, which
    # tells them apart from others' without saying whose they were.
    pseudonym = models.CharField(_("pseudonym"), max_length=32, blank=True)
    ip_address = models.GenericIPAddressField(_("ip address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        verbose_name = _("security event")
        verbose_name_plural = _("security events")
        db_table = "oauth_securityevent"  # where it was born, inside the oauth app
        ordering = ["-created_at"]
        # For the admin's list by kind, newest first. (A plain index on `kind` would also
        # bring a LIKE-pattern index that no query uses, maintained on every event.)
        indexes = [models.Index(fields=["kind", "-created_at"], name="event_kind_recent")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.created_at:%Y-%m-%d %H:%M:%S}"
