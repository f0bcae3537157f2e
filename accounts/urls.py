from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from . import unlink_callbacks, upstream, views

app_name = "accounts"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("login/<str:provider_id>/", upstream.start, name="upstream-start"),
    path("callback/<str:provider_id>/", upstream.callback, name="upstream-callback"),
    path("identities/<int:identity_id>/unlink", upstream.unlink, name="identity-unlink"),
    path("unlink/kakao/", unlink_callbacks.kakao, name="unlink-kakao"),
    path("unlink/naver/", unlink_callbacks.naver, name="unlink-naver"),
    path("apps/", views.apps_page, name="apps"),
    path("apps/<str:client_id>/revoke", views.revoke_access, name="revoke-app"),
]
