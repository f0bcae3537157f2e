"""The developer console's pages: thin over the services in services.py and team.py."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from infra.origin import Origin
from oauth.clients import CLIENT_ID_SHAPE, client_secret_rotate, client_update
from oauth.models import Client, ClientMember

from .forms import AppForm, InitialTokenForm, MemberForm, ReviewForm, RoleForm, RotateForm
from .logos import LogoRefused, logo_set
from .models import AppLogo
from .reviews import ReviewRefused, review_latest, review_request
from .services import AppRefused, app_create, app_delete
from .team import (
    MAY_CHANGE_APP,
    TeamError,
    UserId,
    apps_of,
    member_add,
    member_remove,
    member_role_set,
    members_of,
    owned_count,
    role_of,
)
from .tokens import initial_token_create
from .usage import chart, people_with_active_grants, usage_days

Role = ClientMember.Role
View = Callable[..., HttpResponse]


def private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


def me(request: HttpRequest) -> UserId:
    """The signed-in person's id (login_required has let only people through)."""
    pk = request.user.pk
    if pk is None:
        raise Http404
    return pk


def team_only(*roles: str) -> Callable[[View], View]:
    """The app named in the URL, for a signed-in person on its team with one of `roles` (any
    team role when none is named). Anyone else is told it does not exist."""

    def decorate(view: View) -> View:
        @wraps(view)
        @login_required
        def wrapper(request: HttpRequest, client_id: str, *args: Any, **kwargs: Any) -> Any:
            if not CLIENT_ID_SHAPE.fullmatch(client_id):
                raise Http404
            client = Client.objects.filter(client_id=client_id).first()
            role = role_of(client, me(request)) if client is not None else None
            if client is None or role is None or (roles and role not in roles):
                raise Http404
            return view(request, client, role, *args, **kwargs)

        return wrapper

    return decorate


@require_http_methods(["GET"])
@login_required
def app_list(request: HttpRequest) -> HttpResponse:
    context = {
        "apps": apps_of(me(request)),
        "token_form": InitialTokenForm() if owned_count(me(request)) else None,
    }
    return private(render(request, "developers/list.html", context))


@require_POST
@login_required
def token_new(request: HttpRequest) -> HttpResponse:
    """An initial access token for RFC 7591 registration, for owners of apps: the clients it
    registers join their team, in development. Shown once."""
    form = InitialTokenForm(request.POST)
    if not owned_count(me(request)) or not form.is_valid():
        raise Http404
    row, token = initial_token_create(
        owner_id=me(request),
        max_clients=form.cleaned_data["max_clients"],
        expires_in=timedelta(seconds=form.cleaned_data["expires_in"]),
        from_console=True,
    )
    context = {"row": row, "token": token, "endpoint": settings.ISSUER + "/oauth/register"}
    return private(render(request, "developers/token.html", context))


@require_http_methods(["GET", "POST"])
@login_required
def app_new(request: HttpRequest) -> HttpResponse:
    form = AppForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            client, secret = app_create(
                form.instance, owner_id=me(request), origin=Origin.of(request)
            )
        except AppRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            context = {"client": client, "secret": secret, "new": True}
            return private(render(request, "developers/secret.html", context))
    return private(render(request, "developers/new.html", {"form": form}))


@require_http_methods(["GET", "POST"])
@team_only()
def app_detail(request: HttpRequest, client: Client, role: str) -> HttpResponse:
    may_change = role in MAY_CHANGE_APP
    form = AppForm(request.POST if request.method == "POST" else None, instance=client)
    if request.method == "POST":
        if not may_change:
            raise Http404
        if form.is_valid():
            fields = [name for name in form.changed_data if name != "kind"]
            client_update(form.instance, fields=fields, origin=Origin.of(request),
                          actor_id=me(request))  # fmt: skip
            messages.success(request, _("Your changes are saved."))
            return redirect("developers:app", client.client_id)
        client.refresh_from_db()
    context = {
        "client": client,
        "form": form,
        "role": role,
        "may_change": may_change,
        "members": members_of(client),
        "member_form": MemberForm(),
        "roles": Role.choices,
        "max_testers": settings.DEVELOPER_MAX_TESTERS,
        "rotate_form": RotateForm(),
        "review": review_latest(client),
        "overlapping": client.previous_secret_hash
        and client.previous_secret_expires_at
        and client.previous_secret_expires_at > timezone.now(),
    }
    return private(render(request, "developers/app.html", context))


@require_POST
@team_only(Role.OWNER, Role.DEVELOPER)
def secret_new(request: HttpRequest, client: Client, role: str) -> HttpResponse:
    """A new secret, shown once; the current one keeps working for the overlap chosen."""
    form = RotateForm(request.POST)
    if client.is_public or not form.is_valid():
        raise Http404
    overlap = timedelta(seconds=form.cleaned_data["overlap"])
    secret = client_secret_rotate(
        client, overlap=overlap, origin=Origin.of(request), actor_id=me(request)
    )
    context = {"client": client, "secret": secret, "new": False}
    return private(render(request, "developers/secret.html", context))


@require_POST
@team_only(Role.OWNER, Role.DEVELOPER)
def review_new(request: HttpRequest, client: Client, role: str) -> HttpResponse:
    form = ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The note is too long."))
        return redirect("developers:app", client.client_id)
    try:
        review_request(client=client, user_id=me(request), note=form.cleaned_data["note"])
    except ReviewRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, _("Review requested. You will see the answer here."))
    return redirect("developers:app", client.client_id)


@require_POST
@team_only(Role.OWNER, Role.DEVELOPER)
def member_new(request: HttpRequest, client: Client, role: str) -> HttpResponse:
    form = MemberForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter a username or email address and a role."))
    elif role != Role.OWNER and form.cleaned_data["role"] != Role.TESTER:
        messages.error(request, _("Only an owner may change the team; developers add testers."))
    else:
        try:
            member_add(client=client, identifier=form.cleaned_data["identifier"],
                       role=form.cleaned_data["role"])  # fmt: skip
        except TeamError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Added."))
    return redirect("developers:app", client.client_id)


@require_POST
@team_only(Role.OWNER, Role.DEVELOPER)
def member_change(request: HttpRequest, client: Client, role: str, member_id: int) -> HttpResponse:
    member = client.members.filter(pk=member_id).first()
    if member is None:
        raise Http404
    form = RoleForm(request.POST)
    removing = request.POST.get("remove") == "1"
    only_testers = role != Role.OWNER
    wanted = form.cleaned_data["role"] if form.is_valid() else None
    if only_testers and (member.role != Role.TESTER or (not removing and wanted != Role.TESTER)):
        messages.error(request, _("Only an owner may change the team; developers add testers."))
        return redirect("developers:app", client.client_id)
    try:
        if removing:
            member_remove(member=member, origin=Origin.of(request))
        elif wanted is not None:
            member_role_set(member=member, role=wanted)
    except TeamError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Your changes are saved."))
    if removing and member.user_id == me(request):
        return redirect("developers:list")
    return redirect("developers:app", client.client_id)


@require_POST
@team_only(Role.OWNER, Role.DEVELOPER)
def logo_upload(request: HttpRequest, client: Client, role: str) -> HttpResponse:
    upload = request.FILES.get("logo")
    if upload is None:
        messages.error(request, _("Choose an image to upload."))
    else:
        try:
            logo_set(client, upload, actor_id=me(request), origin=Origin.of(request))
        except LogoRefused as refusal:
            messages.error(request, str(refusal))
        else:
            messages.success(request, _("The logo is saved."))
    return redirect("developers:app", client.client_id)


@require_http_methods(["GET", "HEAD"])
def logo(request: HttpRequest, client_id: str) -> HttpResponse:
    """The consent page shows it to anyone, so anyone may fetch it: an image we encoded, with
    headers that keep a browser from taking it for anything else."""
    row = (
        AppLogo.objects.filter(client__client_id=client_id).first()
        if CLIENT_ID_SHAPE.fullmatch(client_id)
        else None
    )
    if row is None:
        raise Http404
    response = HttpResponse(bytes(row.image), content_type="image/png")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Content-Disposition"] = 'inline; filename="logo.png"'
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Cache-Control"] = "public, max-age=86400"
    return response


@require_http_methods(["GET"])
@team_only()
def usage_page(request: HttpRequest, client: Client, role: str) -> HttpResponse:
    days = usage_days(client)
    context = {
        "client": client,
        "days": days,
        "chart": chart(days),
        "people": people_with_active_grants(client),
        "totals": {
            "authorizations": sum(d.authorizations for d in days),
            "token_requests": sum(d.token_requests for d in days),
        },
    }
    return private(render(request, "developers/usage.html", context))


@require_http_methods(["GET"])
@team_only()
def usage_csv(request: HttpRequest, client: Client, role: str) -> HttpResponse:
    """The same figures for a spreadsheet: dates and numbers only, nothing a cell could run."""
    response = private(HttpResponse(content_type="text/csv; charset=utf-8"))
    response["Content-Disposition"] = f'attachment; filename="usage-{client.pk}.csv"'
    writer = csv.writer(response)
    writer.writerow(["date", "authorizations", "token_requests"])
    for day in usage_days(client):
        writer.writerow([day.day.isoformat(), day.authorizations, day.token_requests])
    return response


@require_http_methods(["GET", "POST"])
@team_only(Role.OWNER)
def app_remove(request: HttpRequest, client: Client, role: str) -> HttpResponse:
    if request.method == "POST" and request.POST.get("confirm") == client.name:
        app_delete(client, actor_id=me(request), origin=Origin.of(request))
        messages.success(request, _("%(app)s is deleted.") % {"app": client.name})
        return redirect("developers:list")
    wrong = request.method == "POST"
    return private(render(request, "developers/delete.html", {"client": client, "wrong": wrong}))
