"""Back-channel logout tokens still to be delivered (OpenID Connect Back-Channel Logout 1.0):
the outbox of backchannel.py, sent by `manage.py logoutworker`; a model of the oauth app."""

from __future__ import annotations

from django.db import models

from infra.outbox import OutboxRow


class LogoutDelivery(OutboxRow):
    """One logout token for one client: who (`sub`) and which session (`sid`) ended. The token
    is signed at each attempt, with the same `jti`, so that one delivered late is still fresh."""

    client = models.ForeignKey("oauth.Client", on_delete=models.CASCADE)
    jti = models.CharField(max_length=64)
    sub = models.CharField(max_length=255)
    sid = models.CharField(max_length=64, blank=True)

    class Meta(OutboxRow.Meta):
        constraints = [models.UniqueConstraint(fields=["jti"], name="logout_delivery_jti_unique")]

    def __str__(self) -> str:
        return f"logout of {self.sid or self.sub} for {self.client_id}"
