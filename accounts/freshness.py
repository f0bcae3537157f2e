"""Fresh sign-in for the account's weightiest steps (setting a first password, withdrawal):
credentials presented in the last FRESH_SIGN_IN seconds, by password or by a provider asked to
take them again (oauth/sign_in.py records when)."""

from __future__ import annotations

import time

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse

from oauth.sign_in import REAUTHENTICATION_PARAMETER, session_auth_time, session_credentials_time

from .models import User
from .providers import configured_provider

FRESH_SIGN_IN = 600  # seconds


def signed_in_freshly(request: HttpRequest, user: User) -> bool:
    """An account with no password and no provider that can be asked for credentials again
    (Google, Naver) can prove no more than a recent sign-in: that is what it needs then."""
    now = time.time()
    if now - (session_credentials_time(request) or 0.0) < FRESH_SIGN_IN:
        return True
    if user.has_usable_password() or any(_can_reauthenticate(i.provider) for i in
                                         user.identities.all()):  # fmt: skip
        return False
    return now - (session_auth_time(request) or 0.0) < FRESH_SIGN_IN


def _can_reauthenticate(provider_id: str) -> bool:
    provider = configured_provider(provider_id)
    return provider is not None and provider.can_reauthenticate()


def fresh_sign_in_demand(request: HttpRequest) -> HttpResponse:
    """To the login page and back here; the mark makes the page offer only the ways in that
    can ask for credentials again, and a provider ask for them."""
    return redirect_to_login(f"{request.path}?{REAUTHENTICATION_PARAMETER}=1")
