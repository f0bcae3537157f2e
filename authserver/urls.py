from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from accounts import api
from oauth import views as oauth_views

urlpatterns = [
    path(
        ".well-known/openid-configuration",
        oauth_views.openid_configuration,
        name="openid-configuration",
    ),
    path(
        ".well-known/oauth-authorization-server",
        oauth_views.oauth_authorization_server,
        name="oauth-authorization-server",
    ),
    path("oauth/", include("oauth.urls")),
    path("accounts/", include("accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # The admin has no sign-in form of its own: operators sign in like everyone else, through
    # the one form with the failed-attempt limits and the account lock (accounts.views).
    path("admin/login/", RedirectView.as_view(pattern_name="accounts:login", query_string=True)),
    path("admin/", admin.site.urls),
    path("api/me", api.Me.as_view(), name="api-me"),
    path("healthz", oauth_views.healthz, name="healthz"),
    path("ping", oauth_views.ping, name="ping"),
    path("", RedirectView.as_view(pattern_name="accounts:home"), name="root"),
]

if settings.DEMO_CLIENT_ENABLED:
    urlpatterns.append(path("demo/", include("democlient.urls")))

handler400 = "authserver.error_pages.bad_request"
handler403 = "authserver.error_pages.permission_denied"
handler404 = "authserver.error_pages.page_not_found"
handler500 = "authserver.error_pages.server_error"
