"""Back-channel logout tokens still to be delivered (OpenID Connect Back-Channel Logout 1.0):
the outbox of backchannel.py, sent by `manage.py logoutworker`; a model of the oauth app."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from infra.outbox import OutboxRow


class LogoutDelivery(OutboxRow):
    """One logout token for one client: who (`sub`) and which session (`sid`) ended. The token
    is signed at each attempt, with the same `jti`, so that one delivered late is still fresh."""

    client = models.ForeignKey("oauth.Client", on_delete=models.CASCADE, verbose_name=_("client"))
    jti = models.CharField(max_length=64, verbose_name=_("jti"))
    sub = models.CharField(max_length=255, verbose_name=_("sub"))
    sid = models.CharField(max_length=64, blank=True, verbose_name=_("sid"))

    class Meta(OutboxRow.Meta):
        verbose_name = _("logout delivery")
        verbose_name_plural = _("logout deliveries")
        constraints = [models.UniqueConstraint(fields=["jti"], name="logout_delivery_jti_unique")]

    def __str__(self) -> str:
        return f"logout of {self.sid or self.sub} for {self.client_id}"
