from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .forms import LoginForm


class LoginView(auth_views.LoginView):
    """Shown even to a signed-in person: prompt=login and max_age send people here to sign in
    again. `next` is followed only when it stays on this server."""

    form_class = LoginForm
    template_name = "accounts/login.html"
    http_method_names = ["get", "post", "head", "options"]


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/home.html")
