from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from infra.languages import speak_ui_locales
from infra.origin import Origin
from infra.ratelimit import address_subject
from oauth.connected_apps import connected_app_disconnect, connected_apps
from oauth.sign_in import demands_fresh_sign_in, requested_ui_locales, session_sid

from .backends import user_for_login
from .emails import email_canonical
from .forms import LoginForm
from .models import User
from .providers import configured_providers
from .sessions import device_label, live_sessions
from .throttling import attempt_count, attempt_succeeded, device_remember
from .unlinking import unlink_notices_unread


class LoginView(auth_views.LoginView):
    """Shown even to a signed-in person: prompt=login and max_age send people here to sign in
    again. `next` is followed only when it stays on this server.

    Attempts are counted before the password is checked (throttling.py): the owner's browser
    by its device cookie, any other by its address and the account named. Refused, the form says
    how long to wait (429), the same whether the account exists.
    """

    form_class = LoginForm
    template_name = "accounts/login.html"
    http_method_names = ["get", "post", "head", "options"]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        """Only providers that can ask for credentials again, when that is what is asked."""
        fresh = demands_fresh_sign_in(self.get_redirect_url())
        providers = [p for p in configured_providers() if p.can_reauthenticate() or not fresh]
        context = super().get_context_data(**kwargs)
        return {**context, "providers": providers, "signup_enabled": settings.SIGNUP_ENABLED}

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        speak_ui_locales(request, requested_ui_locales(self.get_redirect_url()))
        response = super().dispatch(request, *args, **kwargs)
        response["Referrer-Policy"] = "strict-origin"  # `next` may carry an authorization request
        return response

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        login = request.POST.get("username")
        subjects = sign_in_subjects(request, login if isinstance(login, str) else "")
        self.attempt = attempt_count(request, subjects)
        if not self.attempt.allowed:
            return self.too_many(self.attempt.retry_after)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: Any) -> HttpResponse:
        attempt_succeeded(self.attempt)
        response = super().form_valid(form)
        device_remember(self.request, response, form.get_user())
        return response

    def too_many(self, retry_after: int) -> HttpResponse:
        """429 without checking the password (no hashing, no more events for the attempt)."""
        context = self.get_context_data(form=self.form_class(request=self.request))
        context["refusal"] = too_many_message(retry_after)
        response = self.render_to_response(context, status=429)
        response["Retry-After"] = str(retry_after)
        return response


def sign_in_subjects(request: HttpRequest, login: str) -> list[tuple[str, str]]:
    """What a password attempt counts against: the address, and the account the login names
    (the login itself when it names none, so guessing at unknown names counts the same). An
    unknown login is told apart from others as accounts are: a username as it is written, an
    email address by its canonical form; else ALICE and alice would count together only when no
    account alice exists, and the lockout would tell whether one does."""
    user = user_for_login(login) if login else None
    name = login.strip()
    account = f"user:{user.pk}" if user else f"login:{email_canonical(name) or name}"
    return [
        ("sign_in_address", address_subject(Origin.of(request).ip_address)),
        ("sign_in_account", account),
    ]


def too_many_message(retry_after: int) -> str:
    """The wait in whole minutes, rounded up; a wait shorter than a minute in seconds."""
    if retry_after < 60:
        return ngettext(
            "Too many failed sign-ins. Try again in %(seconds)d second.",
            "Too many failed sign-ins. Try again in %(seconds)d seconds.",
            retry_after,
        ) % {"seconds": retry_after}
    minutes = math.ceil(retry_after / 60)
    return ngettext(
        "Too many failed sign-ins. Try again in %(minutes)d minute.",
        "Too many failed sign-ins. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


class SignedInRequest(HttpRequest):
    """A request login_required let through: its user is a person, not AnonymousUser."""

    user: User


@login_required
def home(request: SignedInRequest) -> HttpResponse:
    """The person's account: their email and password, linked provider accounts (to link more
    or unlink), the sessions they are signed in to (to end), and what a provider's unlink did
    (until read)."""
    identities = list(request.user.identities.order_by("provider"))
    linked = {identity.provider for identity in identities}
    sessions = live_sessions(request.user)
    for session in sessions:
        session.device = device_label(session.user_agent)  # type: ignore[attr-defined]
    context = {
        "identities": identities,
        "linkable": [p for p in configured_providers() if p.id not in linked],
        "sessions": sessions,
        "current_sid": session_sid(request),
        "unlink_notices": unlink_notices_unread(request.user),
    }
    return render(request, "accounts/home.html", context)


@require_GET
@login_required
def apps_page(request: SignedInRequest) -> HttpResponse:
    """The apps the person has allowed, to cut off."""
    return render(request, "accounts/apps.html", {"apps": connected_apps(request.user)})


@require_POST
@login_required
def revoke_access(request: SignedInRequest, client_id: str) -> HttpResponse:
    client = connected_app_disconnect(
        user=request.user, client_id=client_id, origin=Origin.of(request)
    )
    if client is None:
        raise Http404
    messages.success(request, _("%(app)s can no longer act for you.") % {"app": client.name})
    return redirect("accounts:apps")
