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
