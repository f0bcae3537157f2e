"""The sign-out button: Django's LogoutView, and the sign-in page it leads to says so once.

Only here: an app's logout (oauth/logout.py) and a withdrawal show pages of their own that say
it, and a message left for later would greet the person at some later sign-in."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.views import LogoutView
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _


class SignOutView(LogoutView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        was_signed_in = request.user.is_authenticated
        response = super().post(request, *args, **kwargs)
        if was_signed_in:
            # The session is gone; the message rides in its own cookie.
            messages.success(request, _("You have been signed out."))
        return response
