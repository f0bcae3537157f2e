"""The operator's overview page in the admin (authserver/admin_site.py routes it)."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from .charts import Chart, Series, stacked_bars
from .overview import DAYS, overview_compute

METHOD_LABELS = {"password": "Password", "google": "Google", "naver": "Naver", "kakao": "Kakao"}


def overview(request: HttpRequest, site: admin.AdminSite) -> HttpResponse:
    """Thirty days of sign-ins, tokens, failures and reuse, for staff who may read events."""
    if not request.user.has_perm("events.view_securityevent"):
        raise PermissionDenied
    found = overview_compute()
    labels = {**METHOD_LABELS, "password": _("Password")}
    charts: list[Chart] = [
        stacked_bars(
            _("Sign-ins per day, by method"),
            found.days,
            [
                Series(labels[method], f"series-{method}", values)
                for method, values in found.sign_ins.items()
            ],
        ),  # fmt: skip
        stacked_bars(
            _("Tokens issued per day"),
            found.days,
            [
                Series(_("Authorization code exchanged"), "series-code", found.tokens_issued),
                Series(_("Refreshed"), "series-refresh", found.tokens_refreshed),
            ],
        ),  # fmt: skip
        stacked_bars(
            _("Failed sign-ins and sign-ins held back per day"),
            found.days,
            [
                Series(_("Failed"), "series-failed", found.sign_ins_failed),
                Series(_("Held back by a limit"), "series-held", found.sign_ins_held),
            ],
        ),  # fmt: skip
        stacked_bars(
            _("Refresh tokens reused per day"),
            found.days,
            [Series(_("Reused"), "series-reuse", found.refresh_reuse)],
        ),
    ]
    busiest = max((count for _name, _id, count in found.top_clients), default=0)
    context = {
        **site.each_context(request),
        "title": _("Overview of the last %(days)d days") % {"days": DAYS},
        "charts": charts,
        "top_clients": [
            (name, client_id, count, round(100 * count / busiest) if busiest else 0)
            for name, client_id, count in found.top_clients
        ],
        "first_day": found.days[0],
        "last_day": found.days[-1],
    }
    return TemplateResponse(request, "admin/events/overview.html", context)
