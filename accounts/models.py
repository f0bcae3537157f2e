"""People who sign in to this server."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower


class User(AbstractUser):
    """A person. The random UUID is the OpenID Connect `sub`: stable, and reveals no count."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email_verified = models.BooleanField(
        default=False, help_text="Whether this server has confirmed that the email is theirs."
    )

    class Meta:
        constraints = [
            # Sign-in accepts an email in place of the username, so an email names one account.
            models.UniqueConstraint(
                Lower("email"), condition=~models.Q(email=""), name="user_email_unique_ci"
            ),
        ]

    @property
    def sub(self) -> str:
        return str(self.pk)

    def get_user_id(self) -> str:
        """authlib's name for the subject identifier."""
        return self.sub
