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

    client = models.ForeignKey("oauth.Client", on_delete=models.CASCADE, related_name="reviews")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True, max_length=2000, help_text="What the team tells operators.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True, max_length=2000, help_text="Shown to the team.")

    class Meta:
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

    token_hash = models.CharField(max_length=64, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
        help_text="Registered clients join this person's team, as its owner.",
    )  # fmt: skip
    live = models.BooleanField(
        default=False, help_text="Registered clients are live at once (no review)."
    )
    max_clients = models.PositiveIntegerField(default=1)
    registered = models.PositiveIntegerField(default=0, editable=False)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Made by an app owner in the console (so held to the console's limits), not an operator.
    from_console = models.BooleanField(default=False, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["token_hash"], name="initial_token_hash_unique")
        ]

    def __str__(self) -> str:
        return f"registration token {self.token_hash[:8]}… for {self.owner}"


class RegistrationAccess(models.Model):
    """The registration access token of a client registered at /oauth/register (RFC 7592 §3):
    hashed; replaced on each update, so an older one no longer works."""

    client = models.OneToOneField(
        "oauth.Client", on_delete=models.CASCADE, related_name="registration_access"
    )
    token_hash = models.CharField(max_length=64)
    issued_at = models.DateTimeField(default=timezone.now)

    class Meta:
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

    client = models.OneToOneField("oauth.Client", on_delete=models.CASCADE, related_name="logo")
    image = models.BinaryField()
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"logo of {self.client}"
