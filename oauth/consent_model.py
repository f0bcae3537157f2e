"""What a person has allowed a client (services.py asks and records it)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .scopes import scope_list


class Consent(models.Model):
    """The scopes a person has allowed a client; asked again only for scopes beyond these."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, verbose_name=_("user")
    )
    client = models.ForeignKey("oauth.Client", on_delete=models.CASCADE, verbose_name=_("client"))
    scope = models.TextField(_("scope"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            models.UniqueConstraint(fields=["user", "client"], name="consent_user_client_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} allows {self.client}: {self.scope}"

    def covers(self, scope: str) -> bool:
        return set(scope_list(scope)) <= set(scope_list(self.scope))
