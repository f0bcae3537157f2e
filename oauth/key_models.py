"""The keys tokens are signed with (see keys.py); a model of the oauth app."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SigningKey(models.Model):
    """A key that signs access tokens and id_tokens.

    `next` keys are published ahead of use, the `active` one signs, and a `retired` one stays
    published until every token it signed has expired.
    """

    class State(models.TextChoices):
        NEXT = "next", _("Next")
        ACTIVE = "active", _("Active")
        RETIRED = "retired", _("Retired")

    kid = models.CharField(max_length=64, unique=True)
    algorithm = models.CharField(max_length=10)
    state = models.CharField(max_length=8, choices=State.choices, default=State.NEXT)
    private_key_encrypted = models.TextField(editable=False)
    public_jwk = models.JSONField(editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    activated_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["algorithm"],
                condition=models.Q(state="active"),
                name="signing_key_one_active_per_algorithm",
            )
        ]

    def __str__(self) -> str:
        return f"{self.algorithm} {self.kid} ({self.state})"
