"""The people of a client: its team (owner, developers, viewers) and the testers it names.

The authorization server needs them for one decision: a client in development may be authorized
only by its own people (see Client.live). The developer console (developers/) manages them.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ClientMember(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        DEVELOPER = "developer", _("Developer")
        VIEWER = "viewer", _("Viewer")
        TESTER = "tester", _("Tester")

    client = models.ForeignKey(
        "oauth.Client", on_delete=models.CASCADE, related_name="members", verbose_name=_("client")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="client_memberships",
        verbose_name=_("user"),
    )
    role = models.CharField(max_length=10, choices=Role.choices, verbose_name=_("role"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("client member")
        verbose_name_plural = _("client members")
        constraints = [
            # Also the index of the one check the authorization endpoint makes of a client
            # in development: is this person one of its people?
            models.UniqueConstraint(fields=["client", "user"], name="client_member_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) of {self.client}"

    @property
    def is_team(self) -> bool:
        return self.role != self.Role.TESTER


def client_person(*, client_pk: int, user_pk: uuid.UUID | str) -> bool:
    """Whether the person is on the client's team or one of its testers (one indexed read)."""
    return ClientMember.objects.filter(client_id=client_pk, user_id=user_pk).exists()
