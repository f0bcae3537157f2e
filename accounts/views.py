from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import ngettext

from oauth.events import Origin
from oauth.ratelimit import rate_exceeded, rate_hit, rate_reset

from .backends import user_for_login
from .forms import LoginForm
from .providers import configured_providers


class LoginView(auth_views.LoginView):
    """Shown even to a signed-in person: prompt=login and max_age send people here to sign in
    again. `next` is followed only when it stays on this server.

    Failed attempts count against the account and the address; over either limit the form
    refuses to try (429) until the window passes, and says the same whether the account exists.
    """

    form_class = LoginForm
    template_name = "accounts/login.html"
    http_method_names = ["get", "post", "head", "options"]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "providers": configured_providers()}

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().dispatch(request, *args, **kwargs)
        response["Referrer-Policy"] = "strict-origin"  # `next` may carry an authorization request
        return response

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        login = request.POST.get("username")
        self.subjects = sign_in_subjects(request, login if isinstance(login, str) else "")
        for limit, subject in self.subjects:
            verdict = rate_exceeded(limit, subject)
            if not verdict.allowed:
                # Counted too: the first refusal of a window becomes a security event.
                rate_hit(limit, subject, origin=Origin.of(request))
                return self.too_many(verdict.retry_after)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: Any) -> HttpResponse:
        rate_reset(*self.subjects[1])  # the account's count starts again; the address's not
        return super().form_valid(form)

    def form_invalid(self, form: Any) -> HttpResponse:
        if form.data.get("username") and form.data.get("password"):
            origin = Origin.of(self.request)
            for limit, subject in self.subjects:
                rate_hit(limit, subject, origin=origin)
        return super().form_invalid(form)

    def too_many(self, retry_after: int) -> HttpResponse:
        form = self.get_form()
        form.errors.clear()
        minutes = max(1, round(retry_after / 60))
        form.add_error(None, too_many_message(minutes))
        response = self.render_to_response(self.get_context_data(form=form), status=429)
        response["Retry-After"] = str(retry_after)
        return response


def sign_in_subjects(request: HttpRequest, login: str) -> list[tuple[str, str]]:
    """What a password attempt counts against: the address, and the account the login names
    (the login itself when it names none, so guessing at unknown names counts the same)."""
    user = user_for_login(login) if login else None
    account = f"user:{user.pk}" if user else f"login:{login.strip().lower()}"
    return [
        ("sign_in_address", Origin.of(request).ip_address or "unknown"),
        ("sign_in_account", account),
    ]


def too_many_message(minutes: int) -> str:
    return ngettext(
        "Too many failed sign-ins. Try again in %(minutes)d minute.",
        "Too many failed sign-ins. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The person's account: their linked provider accounts, to link more or unlink."""
    identities = list(request.user.identities.order_by("provider"))
    linked = {identity.provider for identity in identities}
    context = {
        "identities": identities,
        "linkable": [p for p in configured_providers() if p.id not in linked],
    }
    return render(request, "accounts/home.html", context)
