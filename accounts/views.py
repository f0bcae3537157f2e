from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .forms import LoginForm
from .providers import configured_providers


class LoginView(auth_views.LoginView):
    """Shown even to a signed-in person: prompt=login and max_age send people here to sign in
    again. `next` is followed only when it stays on this server."""

    form_class = LoginForm
    template_name = "accounts/login.html"
    http_method_names = ["get", "post", "head", "options"]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "providers": configured_providers()}


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
