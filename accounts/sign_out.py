"""Signing out: the page that follows says so, whichever way the person signed out."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils.translation import gettext as _


@receiver(user_logged_out)
def say_signed_out(sender: Any, request: HttpRequest | None, **kwargs: Any) -> None:
    # The session is flushed after this signal; the message goes in its own cookie, and the
    # sign-in page shows it once.
    if request is not None and hasattr(request, "_messages"):
        messages.success(request, _("You have been signed out."))
