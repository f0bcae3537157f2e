from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views.generic import RedirectView

from accounts import api
from oauth import views as oauth_views


def admin_sign_in(request: HttpRequest) -> HttpResponse:
    """The admin has no sign-in form of its own: operators sign in like everyone else, through
    the one form with the failed-attempt limits and the account lock (accounts.views). Someone
    signed in already is sent here only for lack of staff rights: signing in again would
    bring them back, so they are told instead (403)."""
    if request.user.is_authenticated:
        raise PermissionDenied("This account has no access to the administration pages.")
    return RedirectView.as_view(pattern_name="accounts:login", query_string=True)(request)


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
    path("admin/login/", admin_sign_in),
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
