"""OpenID Connect RP-Initiated Logout 1.0 at /oauth/logout (the `end_session_endpoint`).

An app sends the person here, by GET or a form POST, with `id_token_hint`, `client_id`,
`post_logout_redirect_uri`, `state` and `ui_locales`. With a hint we signed (by a key still
published, expired or not: §2) that names the person signed in here, the session ends at once
and the person goes back to the app with `state`; anything else asks the person first, on a page
whose form is ours (CSRF-protected). The return address must match one the client registered,
exactly (§3); otherwise there is no redirect at all (§4). The hint is checked as the
authorization endpoint checks one (authorize.hinted_claims): authlib's end-session endpoint
would take any key of the set and not look at `iss`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from authlib.oauth2.rfc6749 import InvalidRequestError, OAuth2Error
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from infra.languages import speak_ui_locales

from .authorize import error_page, hinted_claims
from .clients import active_client
from .models import Client

LONGEST_VALUE = 4000
PARAMETERS = ("id_token_hint", "client_id", "post_logout_redirect_uri", "state", "ui_locales")


@dataclass
class LogoutRequest:
    client: Client | None
    subject: str | None  # the hint's `sub`, when a valid hint came
    redirect_uri: str | None  # registered, with `state` added


@csrf_exempt  # the app's own form posts here; nothing is ended on its word alone (see above)
@require_http_methods(["GET", "HEAD", "POST"])
def end_session(request: HttpRequest) -> HttpResponse:
    params = request.POST if request.method == "POST" else request.GET
    try:
        logout_request = logout_request_parse(params)
        speak_ui_locales(request, _value(params, "ui_locales"))
    except OAuth2Error as error:
        return error_page(request, error)
    user = request.user
    if not user.is_authenticated:
        return _done(request, logout_request)
    if logout_request.subject is not None and logout_request.subject == getattr(user, "sub", None):
        logout(request)
        return _done(request, logout_request)
    return _confirmation_page(request, logout_request, params)


@require_POST
def end_session_confirmed(request: HttpRequest) -> HttpResponse:
    """The confirmation page's form (CSRF-checked): the person chose to sign out. The return
    address is checked against the client's registration again: a form can be forged."""
    try:
        logout_request = logout_request_parse(request.POST)
        speak_ui_locales(request, _value(request.POST, "ui_locales"))
    except OAuth2Error as error:
        return error_page(request, error)
    if request.POST.get("decision") == "stay":
        return render(request, "oauth/logout_done.html", {"signed_out": False})
    logout(request)
    return _done(request, logout_request)


def logout_request_parse(params: QueryDict) -> LogoutRequest:
    """§2, §3: the client (named, or the hint's audience), the hint, the return address."""
    for name in params:
        if len(params.getlist(name)) > 1:
            raise InvalidRequestError("A parameter was sent more than once.")
    for name in PARAMETERS:
        _value(params, name)  # each one readable, or the request is refused here
    hint, client_id = _value(params, "id_token_hint"), _value(params, "client_id")
    claims = hinted_claims(hint) if hint else None
    audiences: list[str] = []
    if claims is not None:
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [str(audience)]
        if client_id and client_id not in audiences:
            raise InvalidRequestError("client_id is not the audience of id_token_hint.")
    if not client_id and len(audiences) == 1:
        client_id = audiences[0]
    client = None
    if client_id:
        client = active_client(client_id)
        if client is None:
            raise InvalidRequestError("Unknown client.")
    redirect_uri = _value(params, "post_logout_redirect_uri")
    if redirect_uri:
        if client is None or redirect_uri not in client.post_logout_redirect_uris:
            raise InvalidRequestError("post_logout_redirect_uri is not registered.")
        state = _value(params, "state")
        if state:
            separator = "&" if "?" in redirect_uri else "?"
            redirect_uri = f"{redirect_uri}{separator}{urlencode({'state': state})}"
    subject = str(claims.get("sub")) if claims is not None else None
    return LogoutRequest(client=client, subject=subject, redirect_uri=redirect_uri or None)


def _value(params: QueryDict, name: str) -> str:
    value = params.get(name, "")
    if not isinstance(value, str) or len(value) > LONGEST_VALUE or "\x00" in value:
        raise InvalidRequestError(f"{name} is not acceptable.")
    return value


def _done(request: HttpRequest, logout_request: LogoutRequest) -> HttpResponse:
    if logout_request.redirect_uri:
        response: HttpResponse = HttpResponseRedirect(logout_request.redirect_uri)
        response["Referrer-Policy"] = "no-referrer"
    else:
        context = {"signed_out": True, "client": logout_request.client}
        response = render(request, "oauth/logout_done.html", context)
    response["Cache-Control"] = "no-store"
    return response


def _confirmation_page(
    request: HttpRequest, logout_request: LogoutRequest, params: QueryDict
) -> HttpResponse:
    carried: dict[str, Any] = {
        name: _value(params, name) for name in PARAMETERS[1:] if _value(params, name)
    }
    if logout_request.client is not None:
        carried["client_id"] = logout_request.client.client_id
    context = {"client": logout_request.client, "carried": carried}
    response = render(request, "oauth/logout_confirm.html", context)
    response["Cache-Control"] = "no-store"
    return response
