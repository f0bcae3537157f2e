"""The signing key model, apart from models.py (the clients, grants and tokens), which
re-exports it: keys are a concept of their own (see keys.py for what is done with them)."""

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

    kid = models.CharField(_("kid"), max_length=64, unique=True)
    algorithm = models.CharField(_("algorithm"), max_length=10)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.NEXT)
    private_key_encrypted = models.TextField(_("private key encrypted"), editable=False)
    public_jwk = models.JSONField(_("public jwk"), editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)

    class Meta:
        verbose_name = _("signing key")
        verbose_name_plural = _("signing keys")
        constraints = [
            models.UniqueConstraint(
                fields=["algorithm"],
                condition=models.Q(state="active"),
                name="signing_key_one_active_per_algorithm",
            )
        ]

    def __str__(self) -> str:
        return f"{self.algorithm} {self.kid} ({self.state})"
