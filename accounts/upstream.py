"""Signing in through Google, Naver or Kakao: out to the provider and back.

`state` is random, single use, bound to this session and short-lived; PKCE and (for OpenID
Connect) a nonce go along. Whatever goes wrong upstream ends on a page of ours with a way back
to the login page, a logged warning, and nothing created half-way. Anyone can start a sign-in
and cancel it: starts are limited per address, and so are the security events for failures.
"""

from __future__ import annotations

import logging
import math
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from authlib.common.security import generate_token
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from events.recording import Kind, event_record
from infra import metrics
from infra.origin import Origin
from infra.ratelimit import address_subject, rate_hit
from oauth.sign_in import demands_fresh_sign_in

from .models import User
from .providers import (
    Pending,
    Provider,
    UpstreamError,
    authorization_error,
    checked_profile,
    configured_provider,
)
from .services import IdentityError, identity_unlink, upstream_login_complete
from .sign_in import sign_in_complete

log = logging.getLogger("accounts.upstream")

PENDING_SESSION_KEY = "upstream_sign_ins"
PENDING_LIFETIME = 600  # seconds a person may spend at the provider
MAX_PENDING = 5  # sign-ins in flight per session (several tabs)


def local_path(request: HttpRequest, target: str | None) -> str:
    """`next` only when it stays on this server, as a path: never an open redirect."""
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and url_has_allowed_host_and_scheme(target, allowed_hosts=None)
    ):
        return target
    return ""


def provider_or_404(provider_id: str) -> Provider:
    provider = configured_provider(provider_id)
    if provider is None:
        raise Http404("No such provider.")
    return provider


@require_POST
def start(request: HttpRequest, provider_id: str) -> HttpResponse:
    """The login page's button (a POST form): off to the provider."""
    provider = provider_or_404(provider_id)
    next_path = local_path(request, request.POST.get("next"))
    origin = Origin.of(request)
    verdict = rate_hit("upstream_start_address", address_subject(origin.ip_address), origin=origin)
    if not verdict.allowed:
        return too_many_starts(request, provider, verdict.retry_after, next_path)
    reauthenticate = demands_fresh_sign_in(next_path)
    if reauthenticate and not provider.can_reauthenticate():
        # It would sign the person in with one click: no fresh sign-in for prompt=login.
        return failure(request, provider, "reauthentication", "cannot reauthenticate", next_path)
    pending = Pending(
        state=secrets.token_urlsafe(32),
        redirect_uri=settings.ISSUER + reverse("accounts:upstream-callback", args=[provider.id]),
        code_verifier=generate_token(64) if provider.pkce else None,
        nonce=secrets.token_urlsafe(16) if provider.uses_openid() else None,
        reauthenticate=reauthenticate,
    )
    in_flight = request.session.get(PENDING_SESSION_KEY)
    in_flight = in_flight if isinstance(in_flight, dict) else {}
    in_flight = dict(sorted(in_flight.items(), key=lambda item: item[1]["at"])[-MAX_PENDING + 1 :])
    in_flight[pending.state] = {
        "provider": provider.id,
        "redirect_uri": pending.redirect_uri,
        "code_verifier": pending.code_verifier,
        "nonce": pending.nonce,
        "next": next_path,
        "link": request.POST.get("link") == "1" and request.user.is_authenticated,
        "at": time.time(),
    }
    request.session[PENDING_SESSION_KEY] = in_flight
    response = redirect(provider.authorization_url(pending))
    response["Referrer-Policy"] = "no-referrer"  # the URL carries state
    return response


def take_pending(request: HttpRequest, provider: Provider) -> dict[str, Any] | None:
    """The sign-in this callback answers, removed from the session so it is used once."""
    state = request.GET.get("state")
    in_flight = request.session.get(PENDING_SESSION_KEY)
    if not isinstance(state, str) or not isinstance(in_flight, dict) or state not in in_flight:
        return None
    pending = in_flight.pop(state)
    request.session[PENDING_SESSION_KEY] = in_flight
    if pending.get("provider") != provider.id:
        return None
    if time.time() - pending.get("at", 0) > PENDING_LIFETIME:
        return None
    return {**pending, "state": state}


@require_GET
def callback(request: HttpRequest, provider_id: str) -> HttpResponse:
    response = finish(request, provider_id)
    response["Referrer-Policy"] = "no-referrer"  # the URL carries the provider's code
    return response


def finish(request: HttpRequest, provider_id: str) -> HttpResponse:
    provider = provider_or_404(provider_id)
    origin = Origin.of(request)
    pending = take_pending(request, provider)
    if pending is None:
        return failure(request, provider, "state", "state missing, unknown, reused or expired")
    try:
        if "error" in request.GET:
            raise authorization_error(request.GET.get("error"))
        code = request.GET.get("code")
        if not code:
            raise UpstreamError("authorize: no code")
        sign_in = Pending(
            state=pending["state"],
            redirect_uri=pending["redirect_uri"],
            code_verifier=pending["code_verifier"],
            nonce=pending["nonce"],
            reauthenticate=demands_fresh_sign_in(pending["next"]),
            started_at=pending["at"],
        )
        token = provider.exchange(code=code, pending=sign_in)
        profile = checked_profile(provider.profile(token=token, pending=sign_in))
        signed_in = request.user if isinstance(request.user, User) else None
        linking = bool(pending["link"]) and signed_in is not None
        user = upstream_login_complete(
            profile=profile, current_user=signed_in if linking else None, origin=origin
        )
    except UpstreamError as error:
        return failure(request, provider, error.reason, str(error), pending["next"])
    except IdentityError as error:
        return failure(request, provider, error.reason, error.reason, pending["next"])
    if linking:
        return redirect("accounts:home")
    sign_in_complete(
        request,
        user,
        method=provider.id,
        credentials_presented=sign_in.reauthenticate,
        identity_uid=profile.uid,
    )
    return redirect(pending["next"] or "accounts:home")


def failure(
    request: HttpRequest, provider: Provider, reason: str, detail: str, next_path: str = ""
) -> HttpResponse:
    """A failure is logged. It is a security event too, unless it is anyone's GET (a callback
    without a valid state) or its address has had its share of events: starting a sign-in and
    cancelling it is open to all, and must not fill the table."""
    log.warning("sign-in with %s failed: %s", provider.id, detail)
    metrics.sign_ins.labels(provider.id, "failure").inc()
    origin = Origin.of(request)
    if reason != "state":
        subject = address_subject(origin.ip_address)
        if rate_hit("upstream_failure_address", subject, origin=origin).allowed:
            event_record(Kind.SIGN_IN_FAILED, origin=origin, provider=provider.id, reason=reason)
        else:
            log.warning("not recorded as a security event: too many from %s", subject)
    status = 502 if reason == "unavailable" else 400
    return error_page(request, provider, reason, next_path, status)


def too_many_starts(
    request: HttpRequest, provider: Provider, retry_after: int, next_path: str
) -> HttpResponse:
    """429: this address has started too many sign-ins. Nothing is written for it."""
    minutes = math.ceil(retry_after / 60)
    refusal = ngettext(
        "Too many sign-ins were started from your network. Try again in %(minutes)d minute.",
        "Too many sign-ins were started from your network. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}
    response = error_page(request, provider, "busy", next_path, 429, refusal=refusal)
    response["Retry-After"] = str(retry_after)
    return response


def error_page(
    request: HttpRequest,
    provider: Provider,
    reason: str,
    next_path: str,
    status: int,
    refusal: str = "",
) -> HttpResponse:
    login_url = reverse("accounts:login") + (
        f"?{urlencode({'next': next_path})}" if next_path else ""
    )
    context = {"provider": provider, "reason": reason, "login_url": login_url, "refusal": refusal}
    response = render(request, "accounts/upstream_error.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def unlink(request: HttpRequest, identity_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    try:
        identity = identity_unlink(
            user=request.user, identity_id=identity_id, origin=Origin.of(request)
        )
    except IdentityError as error:
        messages.error(request, IDENTITY_ERRORS.get(error.reason, IDENTITY_ERRORS["not_found"]))
    else:
        messages.success(
            request,
            _("Your %(provider)s account is no longer linked.")
            % {"provider": identity.get_provider_display()},
        )
    return redirect("accounts:home")


IDENTITY_ERRORS = {
    "last_sign_in": _(
        "This is the only way you can sign in: set a password or link another account first."
    ),
    "not_found": _("That linked account was not found."),
}
