"""The admin, branded with the server's name (SERVER_NAME), with the operator's overview."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, path
from django.utils.translation import gettext as _

from events.views import overview


class OperatorsSite(admin.AdminSite):
    # Read when a page is drawn, not at import, so that a changed setting shows at once.
    @property
    def site_header(self) -> str:  # type: ignore[override]
        return str(settings.SERVER_NAME)

    @property
    def site_title(self) -> str:  # type: ignore[override]
        return _("%(name)s administration") % {"name": settings.SERVER_NAME}

    @property
    def index_title(self) -> str:  # type: ignore[override]
        return _("Operations")

    def get_urls(self) -> list[URLResolver | URLPattern]:
        return [
            path("overview/", self.admin_view(self.overview), name="overview"),
            *super().get_urls(),
        ]

    def overview(self, request: HttpRequest) -> HttpResponse:
        return overview(request, self)
