"""The authorization endpoint (RFC 6749 §4.1.1, OpenID Connect Core §3.1.2): the person signs
in, consents, and is sent back to the client with a code.

An unknown client or an unregistered redirect_uri is shown as a page and never redirected to;
other errors go back to the verified redirect_uri with `state` and `iss` (RFC 9207).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import (
    AccessDeniedError,
    InvalidRequestError,
    UnsupportedResponseTypeError,
)
from authlib.oidc.core.errors import (
    ConsentRequiredError,
    LoginRequiredError,
    RequestNotSupportedError,
    RequestURINotSupportedError,
)
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jws import extract_compact

from infra.languages import speak_ui_locales
from infra.origin import Origin

from . import services
from .discovery import PROMPT_VALUES
from .errors import ResponseTypeUnsupported
from .keys import verifying_key
from .members import client_person
from .models import Client
from .people import Person
from .scopes import SCOPE_DESCRIPTIONS, scope_list
from .server import issuer_parameter, server
from .sign_in import (
    fresh_sign_in_required,
    session_auth_time,
    session_sid,
    sign_in_demand,
    signed_in_again,
)
from .views import check_parameters, error_response

CONSENT_FORM_FIELDS = {"csrfmiddlewaretoken", "decision"}
# A request URL longer than this would not pass gunicorn (limit_request_line, 4094 bytes).
MAX_URL_LENGTH = 4000


def keeps_its_url_private(
    view: Callable[[HttpRequest], HttpResponse],
) -> Callable[..., HttpResponse]:
    """The URL carries `state` (and its redirects a code): no Referer may carry it elsewhere.
    Pages with a form get `strict-origin` (origin only), since browsers send `Origin: null`
    from a `no-referrer` page, which CSRF protection must refuse."""

    @wraps(view)
    def wrapper(request: HttpRequest) -> HttpResponse:
        response = view(request)
        response["Referrer-Policy"] = (
            "no-referrer" if response.status_code in (301, 302, 303) else "strict-origin"
        )
        return response

    return wrapper


@keeps_its_url_private
@csrf_exempt  # an authorization request may be POSTed from anywhere; the consent answer is not
@require_http_methods(["GET", "POST"])
def authorize(request: HttpRequest) -> HttpResponse:
    """OIDC Core §3.1.2.1: requests by GET or POST. A POSTed request (its parameters in the body,
    none in the URL) is sent on as the same GET, so that a request always lives in its URL, as
    the sign-in page's way back and the consent form need it. A POST to a request's URL is the
    consent form's answer, held to CSRF protection."""
    if request.method == "POST" and not request.GET:
        url = f"{reverse('oauth:authorize')}?{request.POST.urlencode()}"
        if len(url) > MAX_URL_LENGTH:
            return error_page(request)
        return HttpResponseRedirect(url, status=303)
    return _authorize(request)


@csrf_protect
def _authorize(request: HttpRequest) -> HttpResponse:
    user = request.user if request.user.is_authenticated else None
    try:
        check_parameters(request.GET)
        check_parameters(request.POST)
        if set(request.POST) - CONSENT_FORM_FIELDS:
            # The request lives in the URL; the consent form adds only its answer.
            raise InvalidRequestError("Unexpected parameters in the request body.")
        grant = server.get_consent_grant(request, end_user=user)
    except UnsupportedResponseTypeError as error:
        if request.GET.get("response_type"):
            return refuse(request, error, redirect_uri=error.redirect_uri)
        missing = InvalidRequestError("Missing response_type.")
        return refuse(request, missing, redirect_uri=error.redirect_uri)
    except OAuth2Error as error:
        return refuse(request, error, redirect_uri=error.redirect_uri)
    except ValueError:
        return error_page(request)

    client: Client = grant.request.client
    scope: str = grant.request.scope
    prompts = set((request.GET.get("prompt") or "").split())
    if "openid" in scope_list(scope) and not request.GET.get("redirect_uri"):
        return error_page(request)  # OIDC Core §3.1.2.1: required, so nothing to trust
    speak_ui_locales(request, request.GET.get("ui_locales"))
    try:
        # RFC 6749 §3.1: a parameter sent without a value is as if it were not sent.
        if request.GET.get("request"):
            raise RequestNotSupportedError()
        if request.GET.get("request_uri"):
            raise RequestURINotSupportedError()
        if (request.GET.get("response_mode") or "query") != "query":
            raise InvalidRequestError("Only response_mode=query is supported.")
        if not prompts <= set(PROMPT_VALUES):
            raise InvalidRequestError("Unknown prompt value.")
        if "none" in prompts and len(prompts) > 1:
            raise InvalidRequestError("prompt=none cannot be combined with other values.")
        # OIDC Core §3.1.2.1: a client may name the person it asks about. Someone else signs
        # in afresh; if that is still someone else, the answer is login_required.
        hinted = hinted_subject(request, client)
        not_hinted = hinted is not None and (user is None or str(user.sub) != hinted)
        if not_hinted and user is not None and signed_in_again(request):
            raise LoginRequiredError()
        fresh_sign_in = fresh_sign_in_required(request, prompts) or not_hinted
        if user is None or (fresh_sign_in and not signed_in_again(request)):
            if "none" in prompts:
                raise LoginRequiredError()
            return sign_in_demand(request, again=fresh_sign_in)
        if not client.live and not client_person(client_pk=client.pk, user_pk=user.pk):
            if "none" in prompts:
                raise AccessDeniedError("The client is in development.")
            return in_development_page(request, grant.redirect_uri)
        needs_consent = (
            "consent" in prompts
            or client.identity_unproven(grant.redirect_uri)
            or not (
                client.first_party or services.consent_covers(user=user, client=client, scope=scope)
            )
        )
        if needs_consent and "none" in prompts:
            raise ConsentRequiredError()
    except OAuth2Error as error:
        return refuse(request, error, redirect_uri=grant.redirect_uri)

    grant_user: Person | None = user
    if needs_consent:
        decision = request.POST.get("decision")
        if decision not in {"allow", "deny"}:
            return consent_page(request, client, scope, grant.redirect_uri)
        if decision == "allow":
            services.consent_grant(user=user, client=client, scope=scope, origin=Origin.of(request))
        else:
            grant_user = None
    grant.request.auth_time = int(session_auth_time(request) or time.time())
    grant.request.sid = session_sid(request) or ""
    # The request authlib built while validating, not a second one.
    response: HttpResponse = server.create_authorization_response(
        grant.request, grant_user=grant_user, grant=grant
    )
    if request.method == "POST" and response.status_code == 302:
        response.status_code = 303  # RFC 9700 §4.12: the browser must not re-send the form
    return response


def refuse(request: HttpRequest, error: OAuth2Error, *, redirect_uri: str | None) -> HttpResponse:
    """To the client's verified redirect_uri with `state` and `iss`, or else as a page."""
    if not redirect_uri:
        return error_page(request, error)
    if isinstance(error, UnsupportedResponseTypeError):
        error = ResponseTypeUnsupported()  # authlib's description echoes the client's value
    error.redirect_uri = redirect_uri
    error.state = request.GET.get("state")
    response = error_response(error)
    issuer_parameter.add_issuer_parameter(server, response)
    return response


def error_page(request: HttpRequest, error: OAuth2Error | None = None) -> HttpResponse:
    """Shown instead of redirecting when the client or its redirect_uri cannot be trusted."""
    code = error.error if error is not None else "invalid_request"
    response = render(request, "oauth/error.html", {"error": code}, status=400)
    response["Cache-Control"] = "no-store"
    return response


def in_development_page(request: HttpRequest, redirect_uri: str) -> HttpResponse:
    """A client in development is for its team and testers: anyone else is told so, and may
    return to the app, which then hears `access_denied`."""
    error = AccessDeniedError("The client is in development; this person is not one of its own.")
    back = refuse(request, error, redirect_uri=redirect_uri)
    context = {"back": back["Location"], "redirect_host": host_for_people(redirect_uri)}
    response = render(request, "oauth/in_development.html", context, status=403)
    response["Cache-Control"] = "no-store"
    return response


def hinted_subject(request: HttpRequest, client: Client) -> str | None:
    """The `sub` of the `id_token_hint`: an id_token we signed for this client, expired or not.
    Checked, so that no client can ask about people it has no id_token of (whether the visitor
    is someone it names). A hint whose key is no longer published cannot be checked and is
    ignored, as if not sent."""
    hint = request.GET.get("id_token_hint")
    if not hint:
        return None
    claims = hinted_claims(hint)
    if claims is None:
        return None
    audiences = claims.get("aud")
    audiences = audiences if isinstance(audiences, list) else [audiences]
    if client.client_id not in audiences:
        raise InvalidRequestError(HINT_REFUSED)
    return str(claims.get("sub"))


HINT_REFUSED = "id_token_hint is not an id_token this server issued you."


def hinted_claims(hint: str) -> dict[str, Any] | None:
    """The claims of an id_token this server signed, expired or not; None when its key is no
    longer published (it cannot be checked: as if not sent); InvalidRequestError for anything
    else (a forgery, another issuer's token, not a JWT)."""
    try:
        key = verifying_key(str(extract_compact(hint.encode()).headers().get("kid")))
        if key is None:
            return None
        claims = jwt.decode(hint, key, algorithms=list(settings.SIGNING_ALGORITHMS)).claims
    except (JoseError, ValueError, TypeError, RecursionError):
        raise InvalidRequestError(HINT_REFUSED) from None
    if claims.get("iss") != settings.ISSUER or not claims.get("sub"):
        raise InvalidRequestError(HINT_REFUSED)
    return dict(claims)


def host_for_people(uri: str) -> str:
    """Where a URI leads, as the consent page names it: its host and port only (no user name
    to pass for a host), a non-ASCII name in its ASCII form (no look-alike letters)."""
    parts = urlsplit(uri)
    host = parts.hostname or ""
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        pass  # not a name IDNA can spell: shown as it is, escaped
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{parts.port}" if parts.port else host


def consent_page(
    request: HttpRequest, client: Client, scope: str, redirect_uri: str
) -> HttpResponse:
    context: dict[str, Any] = {
        "client": client,
        "scopes": [(name, SCOPE_DESCRIPTIONS[name]) for name in scope_list(scope)],
        "redirect_host": host_for_people(redirect_uri),
        "action": request.get_full_path(),
        "server_name": settings.SERVER_NAME,
    }
    response = render(request, "oauth/consent.html", context)
    response["Cache-Control"] = "no-store"
    return response
