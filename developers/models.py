"""What the console keeps beside the authorization server's clients: requests for review."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ReviewRequest(models.Model):
    """A team asks for its app to go live; an operator approves or rejects it with a reason
    the team sees."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    client = models.ForeignKey(
        "oauth.Client", on_delete=models.CASCADE, related_name="reviews", verbose_name=_("client")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(default=timezone.now, verbose_name=_("requested at"))
    note = models.TextField(
        blank=True,
        max_length=2000,
        help_text=_("What the team tells operators."),
        verbose_name=_("note"),
    )
    state = models.CharField(
        max_length=10, choices=State.choices, default=State.PENDING, verbose_name=_("state")
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(null=True, blank=True, verbose_name=_("decided at"))
    reason = models.TextField(
        blank=True, max_length=2000, help_text=_("Shown to the team."), verbose_name=_("reason")
    )

    class Meta:
        verbose_name = _("review request")
        verbose_name_plural = _("review requests")
        ordering = ["requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["client"],
                condition=models.Q(state="pending"),
                name="review_one_pending_per_client",
            )
        ]

    def __str__(self) -> str:
        return f"{self.client} ({self.state})"


class InitialAccessToken(models.Model):
    """Leave to register clients at /oauth/register (RFC 7591 §3): for a number of clients,
    until it expires. Only its hash is kept; the clients join its owner's team."""

    token_hash = models.CharField(max_length=64, editable=False, verbose_name=_("token hash"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
        help_text=_("Registered clients join this person's team, as its owner."),
     verbose_name=_("owner"),)  # fmt: skip
    live = models.BooleanField(
        default=False,
        help_text=_("Registered clients are live at once (no review)."),
        verbose_name=_("live"),
    )
    max_clients = models.PositiveIntegerField(default=1, verbose_name=_("max clients"))
    registered = models.PositiveIntegerField(
        default=0, editable=False, verbose_name=_("registered")
    )
    expires_at = models.DateTimeField(verbose_name=_("expires at"))
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )
    # Made by an app owner in the console (so held to the console's limits), not an operator.
    from_console = models.BooleanField(
        default=False, editable=False, verbose_name=_("from console")
    )

    class Meta:
        verbose_name = _("initial access token")
        verbose_name_plural = _("initial access tokens")
        constraints = [
            models.UniqueConstraint(fields=["token_hash"], name="initial_token_hash_unique")
        ]

    def __str__(self) -> str:
        return f"registration token {self.token_hash[:8]}… for {self.owner}"


class RegistrationAccess(models.Model):
    """The registration access token of a client registered at /oauth/register (RFC 7592 §3):
    hashed; replaced on each update, so an older one no longer works."""

    client = models.OneToOneField(
        "oauth.Client",
        on_delete=models.CASCADE,
        related_name="registration_access",
        verbose_name=_("client"),
    )
    token_hash = models.CharField(max_length=64, verbose_name=_("token hash"))
    issued_at = models.DateTimeField(default=timezone.now, verbose_name=_("issued at"))

    class Meta:
        verbose_name = _("registration access token")
        verbose_name_plural = _("registration access tokens")
        constraints = [
            models.UniqueConstraint(fields=["token_hash"], name="registration_token_hash_unique")
        ]

    def __str__(self) -> str:
        return f"registration access to {self.client}"

    def check_client(self, client: object) -> bool:
        """authlib's TokenMixin: valid only for the client it was issued to."""
        return getattr(client, "pk", None) == self.client_id


class AppLogo(models.Model):
    """An app's logo as we re-encoded it (logos.py), served from our own origin: people's
    browsers never fetch anything the developer chose."""

    client = models.OneToOneField(
        "oauth.Client", on_delete=models.CASCADE, related_name="logo", verbose_name=_("client")
    )
    image = models.BinaryField(verbose_name=_("image"))
    updated_at = models.DateTimeField(default=timezone.now, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("app logo")
        verbose_name_plural = _("app logos")

    def __str__(self) -> str:
        return f"logo of {self.client}"
