from __future__ import annotations

from django.urls import path

from . import authorize, logout, views

app_name = "oauth"

urlpatterns = [
    path("authorize", authorize.authorize, name="authorize"),
    path("token", views.token, name="token"),
    path("revoke", views.revoke, name="revoke"),
    path("introspect", views.introspect, name="introspect"),
    path("userinfo", views.userinfo, name="userinfo"),
    path("jwks", views.jwks, name="jwks"),
    path("native/nonce", views.native_nonce, name="native-nonce"),
    path("logout", logout.end_session, name="logout"),
    path("logout/confirm", logout.end_session_confirmed, name="logout-confirm"),
]
