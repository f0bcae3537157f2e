from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponsePermanentRedirect
from django.urls import include, path, re_path, reverse
from django.views.generic import RedirectView

from accounts import api
from authserver import health as readiness
from authserver import metrics
from developers import endpoints as developer_endpoints
from infra import health
from oauth import views as oauth_views


def admin_sign_in(request: HttpRequest) -> HttpResponseBase:
    """The admin has no sign-in form of its own: operators sign in like everyone else, through
    the one form with the failed-attempt limits and the account lock (accounts.views). Someone
    signed in already is sent here only for lack of staff rights: signing in again would
    bring them back, so they are told instead (403)."""
    if request.user.is_authenticated:
        raise PermissionDenied("This account has no access to the administration pages.")
    return RedirectView.as_view(pattern_name="accounts:login", query_string=True)(request)


def moved_admin_page(request: HttpRequest, rest: str) -> HttpResponse:
    """Security events moved from the oauth app to an app of their own: operators' bookmarks
    of the old admin pages still lead there."""
    query = f"?{request.META['QUERY_STRING']}" if request.META.get("QUERY_STRING") else ""
    listing = reverse("admin:events_securityevent_changelist")
    return HttpResponsePermanentRedirect(f"{listing}{rest}{query}")


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
    path("oauth/register", developer_endpoints.register, name="client-registration"),
    path(
        "oauth/register/<str:client_id>",
        developer_endpoints.configure,
        name="client-configuration",
    ),
    path("oauth/", include("oauth.urls")),
    path("accounts/", include("accounts.urls")),
    path("developers/", include("developers.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/login/", admin_sign_in),
    re_path(r"^admin/oauth/securityevent/(?P<rest>.*)$", moved_admin_page),
    path("admin/", admin.site.urls),
    path("api/me", api.Me.as_view(), name="api-me"),
    path("healthz", readiness.ready, name="healthz"),  # the name load balancers knew first
    path("healthz/ready", readiness.ready, name="healthz-ready"),
    path("healthz/live", health.live, name="healthz-live"),
    path("ping", health.ping, name="ping"),
    path("metrics", metrics.metrics, name="metrics"),
    path("", RedirectView.as_view(pattern_name="accounts:home"), name="root"),
]

if settings.DEMO_CLIENT_ENABLED:
    urlpatterns.append(path("demo/", include("democlient.urls")))

handler400 = "authserver.error_pages.bad_request"
handler403 = "authserver.error_pages.permission_denied"
handler404 = "authserver.error_pages.page_not_found"
handler500 = "authserver.error_pages.server_error"
