"""The apps a person has let act for them, and cutting one off (accounts/apps/)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Max
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from oauth.clients import CLIENT_ID_SHAPE
from oauth.events import Origin
from oauth.models import Client, Consent, Grant
from oauth.scopes import SCOPE_DESCRIPTIONS, SUPPORTED_SCOPES, scope_list
from oauth.services import consent_withdraw


@dataclass
class ConnectedApp:
    client: Client
    scopes: set[str] = field(default_factory=set)
    granted_at: datetime | None = None
    last_used_at: datetime | None = None

    def seen(self, at: datetime | None, *, granted: bool = False) -> None:
        if at is None:
            return
        if granted and (self.granted_at is None or at < self.granted_at):
            self.granted_at = at
        if self.last_used_at is None or at > self.last_used_at:
            self.last_used_at = at

    @property
    def scope_descriptions(self) -> list[str]:
        return [str(SCOPE_DESCRIPTIONS[s]) for s in SUPPORTED_SCOPES if s in self.scopes]


def connected_apps(user: User) -> list[ConnectedApp]:
    """Apps with consent or a live grant, with what they may do and when they last did."""
    apps: dict[int, ConnectedApp] = {}
    for consent in Consent.objects.filter(user=user).select_related("client"):
        app = apps.setdefault(consent.client_id, ConnectedApp(consent.client))
        app.scopes |= set(scope_list(consent.scope))
        app.seen(consent.created_at, granted=True)
    grants = (
        Grant.objects.active()
        .filter(user=user)
        .select_related("client")
        .annotate(last_refresh_at=Max("refresh_tokens__created_at"))
    )
    for grant in grants:
        app = apps.setdefault(grant.client_id, ConnectedApp(grant.client))
        app.scopes |= set(scope_list(grant.scope))
        app.seen(grant.created_at, granted=True)
        app.seen(grant.last_refresh_at)
    return sorted(apps.values(), key=lambda app: app.client.name.lower())


@require_GET
@login_required
def apps_page(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/apps.html", {"apps": connected_apps(request.user)})


@require_POST
@login_required
def revoke_access(request: HttpRequest, client_id: str) -> HttpResponse:
    if not CLIENT_ID_SHAPE.fullmatch(client_id):
        raise Http404  # a NUL, say, must not reach the database
    client = get_object_or_404(Client, client_id=client_id)
    consent_withdraw(user=request.user, client=client, origin=Origin.of(request))
    messages.success(request, _("%(app)s can no longer act for you.") % {"app": client.name})
    return redirect("accounts:apps")
