"""Protocol endpoints: thin views over the authlib server (server.py) and the services.

Each endpoint has one boundary. OAuth errors become the RFC 6749 JSON with `Cache-Control:
no-store`; a ValueError from malformed input becomes `invalid_request`; nothing a client sends
can cause a 500. At /oauth/authorize an unknown client or unregistered redirect_uri is shown as a
page and never redirected to.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import time
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidClientError, InvalidRequestError
from authlib.oauth2.rfc6750 import InsufficientScopeError, InvalidTokenError
from authlib.oidc.core.errors import ConsentRequiredError, LoginRequiredError
from django.contrib.auth.views import redirect_to_login
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import render
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from accounts.signals import session_auth_time

from . import services
from .authentication import access_token_claims, bearer_token
from .claims import user_claims
from .discovery import server_metadata
from .keys import published_jwks
from .models import Client, Grant
from .scopes import SCOPE_DESCRIPTIONS, scope_list
from .server import issuer_parameter, server

View = Callable[[HttpRequest], HttpResponse]

# Longer values are refused rather than stored or echoed (redirect URIs, states, nonces…).
MAX_PARAMETER_LENGTH = 4096
REAUTHENTICATION_SESSION_KEY = "oauth_reauthentication"


def error_response(error: OAuth2Error) -> HttpResponse:
    return server.handle_response(*error())


def check_parameters(params: QueryDict) -> None:
    """RFC 6749 §3.1 and §3.2: parameters must not repeat. Also refuse what no honest client
    sends: NUL characters and values too long to be real."""
    for name, values in params.lists():
        if len(values) > 1:
            raise InvalidRequestError("A request parameter is repeated.")
        if len(name) > 100 or any(
            len(value) > MAX_PARAMETER_LENGTH or "\x00" in value for value in values
        ):
            raise InvalidRequestError("A request parameter is malformed.")


def check_basic_credentials(request: HttpRequest) -> None:
    """A malformed `Authorization: Basic` header is a failed client authentication (401)."""
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        decoded = ""
    if ":" not in decoded or "\x00" in decoded:
        raise InvalidClientError(status_code=401, description="Malformed Basic credentials.")
    if "client_secret" in request.POST:
        raise InvalidRequestError("Use one client authentication method, not two.")


def form_endpoint(view: View) -> View:
    """The boundary of a client-facing POST endpoint (token, revocation, introspection)."""

    @csrf_exempt
    @wraps(view)
    def endpoint(request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            response = error_response(InvalidRequestError("Use POST."))
            response.status_code = 405
            response["Allow"] = "POST"
            return response
        try:
            if request.content_type != "application/x-www-form-urlencoded":
                raise InvalidRequestError("Send parameters as application/x-www-form-urlencoded.")
            if request.GET:
                raise InvalidRequestError("Send parameters in the request body, not the URL.")
            check_parameters(request.POST)
            check_basic_credentials(request)
            return view(request)
        except OAuth2Error as error:
            return error_response(error)
        except ValueError:
            # authlib raises ValueError on some malformed input (RFC 6749 character rules).
            return error_response(InvalidRequestError("The request is malformed."))

    return endpoint


@form_endpoint
def token(request: HttpRequest) -> HttpResponse:
    return server.create_token_response(request)


@form_endpoint
def revoke(request: HttpRequest) -> HttpResponse:
    return server.create_endpoint_response("revocation", request)


@form_endpoint
def introspect(request: HttpRequest) -> HttpResponse:
    return server.create_endpoint_response("introspection", request)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def userinfo(request: HttpRequest) -> HttpResponse:
    """OIDC Core §5.3. The grant is looked up with the user, so a revoked grant is refused."""
    try:
        claims = access_token_claims(bearer_token(request.headers.get("Authorization", "")))
        if "openid" not in scope_list(claims.get("scope")):
            raise InsufficientScopeError()
        grant = Grant.objects.active().select_related("user").filter(pk=claims["grant_id"]).first()
        if grant is None or not grant.user.is_active:
            raise InvalidTokenError(description="The grant of this token has been revoked.")
    except OAuth2Error as error:
        return error_response(error)
    response = JsonResponse(user_claims(grant.user, claims.get("scope", "")))
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@cache_control(public=True, max_age=300)
def jwks(request: HttpRequest) -> HttpResponse:
    return JsonResponse(published_jwks())


@require_GET
@cache_control(public=True, max_age=3600)
def openid_configuration(request: HttpRequest) -> HttpResponse:
    return JsonResponse(server_metadata(openid=True))


@require_GET
@cache_control(public=True, max_age=3600)
def oauth_authorization_server(request: HttpRequest) -> HttpResponse:
    return JsonResponse(server_metadata(openid=False))


@require_GET
def ping(request: HttpRequest) -> HttpResponse:
    """Liveness without touching the database; also the floor that `make bench` measures."""
    return JsonResponse({"status": "ok"})


@require_GET
@cache_control(no_store=True)
def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers: the process answers and its database does."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:  # any database failure means: take me out of rotation
        return JsonResponse({"status": "unavailable", "database": type(error).__name__}, status=503)
    return JsonResponse({"status": "ok"})


# The authorization endpoint


def error_page(request: HttpRequest, error: OAuth2Error | None = None) -> HttpResponse:
    """Shown instead of redirecting when the client or its redirect_uri cannot be trusted."""
    code = error.error if error is not None else "invalid_request"
    response = render(request, "oauth/error.html", {"error": code}, status=400)
    response["Cache-Control"] = "no-store"
    return response


def redirect_error(request: HttpRequest, error: OAuth2Error) -> HttpResponse:
    """Send an error back to the client's (already verified) redirect_uri, with `iss`."""
    error.state = request.GET.get("state")
    response = error_response(error)
    issuer_parameter.add_issuer_parameter(server, response)
    return response


def prompt_values(request: HttpRequest) -> set[str]:
    return set((request.GET.get("prompt") or "").split())


def max_age(request: HttpRequest) -> int | None:
    value = request.GET.get("max_age")
    if value is None:
        return None
    if not value.isascii() or not value.isdigit():
        raise InvalidRequestError("max_age must be a number of seconds.")
    return int(value)


def reauthentication_due(request: HttpRequest) -> bool:
    """Whether prompt=login or max_age asks for a sign-in newer than the session's (OIDC Core
    §3.1.2.1). The demand is remembered for this exact request, so that signing in once
    satisfies it and the request then proceeds."""
    prompts, limit = prompt_values(request), max_age(request)
    auth_time = session_auth_time(request) or 0.0
    now = time.time()
    if "login" not in prompts and (limit is None or now - auth_time <= limit):
        return False
    fingerprint = hashlib.sha256(request.GET.urlencode().encode()).hexdigest()
    demand = request.session.get(REAUTHENTICATION_SESSION_KEY)
    if isinstance(demand, dict) and demand.get("request") == fingerprint:
        return not auth_time > demand.get("since", now)
    request.session[REAUTHENTICATION_SESSION_KEY] = {"request": fingerprint, "since": now}
    return True


@require_http_methods(["GET", "POST"])
def authorize(request: HttpRequest) -> HttpResponse:
    """RFC 6749 §4.1.1 and OIDC Core §3.1.2: sign in, consent, then redirect with a code."""
    user = request.user if request.user.is_authenticated else None
    try:
        check_parameters(request.GET)
        grant = server.get_consent_grant(request, end_user=user)
    except OAuth2Error as error:
        if error.redirect_uri:
            return redirect_error(request, error)
        return error_page(request, error)
    except ValueError:
        return error_page(request)

    client: Client = grant.request.client
    prompts = prompt_values(request)
    try:
        if "none" in prompts and len(prompts) > 1:
            raise InvalidRequestError("prompt=none cannot be combined with other values.")
        if user is None or reauthentication_due(request):
            if "none" in prompts:
                raise LoginRequiredError()
            return redirect_to_login(request.get_full_path())
        needs_consent = not client.first_party and (
            "consent" in prompts
            or not services.consent_covers(user=user, client=client, scope=grant.request.scope)
        )
        if needs_consent and "none" in prompts:
            raise ConsentRequiredError()
    except OAuth2Error as error:
        error.redirect_uri = grant.redirect_uri
        return redirect_error(request, error)

    grant_user = user
    if needs_consent:
        decision = request.POST.get("decision") if request.method == "POST" else None
        if decision not in {"allow", "deny"}:
            return consent_page(request, client, grant.request.scope, grant.redirect_uri)
        if decision == "allow":
            services.consent_grant(user=user, client=client, scope=grant.request.scope)
        else:
            grant_user = None
    grant.request.auth_time = int(session_auth_time(request) or time.time())
    return server.create_authorization_response(request, grant_user=grant_user, grant=grant)


def consent_page(
    request: HttpRequest, client: Client, scope: str, redirect_uri: str
) -> HttpResponse:
    scopes = [(name, SCOPE_DESCRIPTIONS[name]) for name in scope_list(scope)]
    context: dict[str, Any] = {
        "client": client,
        "scopes": scopes,
        "redirect_host": urlsplit(redirect_uri).netloc,
        "action": request.get_full_path(),
    }
    response = render(request, "oauth/consent.html", context)
    response["Cache-Control"] = "no-store"
    return response
