from __future__ import annotations

from django.urls import path

from . import views

app_name = "democlient"

urlpatterns = [
    path("", views.index, name="index"),
    path("login", views.login, name="login"),
    path("callback", views.callback, name="callback"),
    path("refresh", views.refresh, name="refresh"),
    path("revoke", views.revoke, name="revoke"),
    path("forget", views.forget, name="forget"),
]
