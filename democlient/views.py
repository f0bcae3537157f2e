"""The demo app's pages. Its state lives in the session under one key, apart from the server's.

Every call to the server can fail (it may be down, or answer with an error): the page then
shows what went wrong instead of failing.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.oauth2 import OAuth2Error
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.http import require_GET, require_POST
from joserfc.errors import JoseError
from requests import RequestException

from . import oauth

SESSION_KEY = "democlient"
FAILURES = (OAuthError, OAuth2Error, RequestException, JoseError, KeyError, ValueError, TypeError)


def _state(request: HttpRequest) -> dict[str, Any]:
    state = request.session.get(SESSION_KEY)
    return state if isinstance(state, dict) else {}


def _save(request: HttpRequest, state: dict[str, Any]) -> None:
    request.session[SESSION_KEY] = state


def shows_failures(view: Callable[[HttpRequest], HttpResponse]) -> Callable[..., HttpResponse]:
    """Any failure talking to the server becomes a message on the demo page."""

    @wraps(view)
    def wrapper(request: HttpRequest) -> HttpResponse:
        try:
            return view(request)
        except FAILURES as error:
            state = _state(request)
            state["error"] = f"{type(error).__name__}: {error}"
            _save(request, state)
            return redirect("democlient:index")

    return wrapper


def _show_tokens(request: HttpRequest, token: dict[str, Any], server: dict[str, Any]) -> None:
    """Keep what the demo page shows: the tokens, their verified claims and the userinfo."""
    state = _state(request)
    state.pop("error", None)
    state.pop("revoked", None)
    state["token"] = dict(token)
    state["access_token"] = oauth.access_token(token["access_token"], server=server)
    if token.get("id_token"):
        state["id_token"] = oauth.id_token(
            token["id_token"], server=server, nonce=state.get("nonce")
        )
    userinfo = oauth.session(token=token).get(server["userinfo_endpoint"])
    body = userinfo.json()
    id_claims = state.get("id_token", {}).get("claims", {})
    if userinfo.ok and id_claims and body.get("sub") != id_claims.get("sub"):
        # OIDC Core §5.3.2: userinfo about someone else must not be used.
        raise OAuthError("userinfo_sub", "The userinfo describes someone else than the id_token.")
    state["userinfo"] = {"status": userinfo.status_code, "body": body}
    _save(request, state)


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    state = _state(request)
    pretty = {
        key: json.dumps(state[key], indent=2, ensure_ascii=False)
        for key in ("token", "access_token", "id_token", "userinfo")
        if key in state
    }
    response = render(request, "democlient/index.html", {"state": state, "pretty": pretty})
    response["Cache-Control"] = "no-store"  # it shows the tokens
    return response


@require_POST
@shows_failures
def login(request: HttpRequest) -> HttpResponse:
    server = oauth.metadata()
    redirect_uri = request.build_absolute_uri(reverse("democlient:callback"))
    code_verifier = generate_token(64)
    nonce = secrets.token_urlsafe(16)
    # OIDC Core §3.1.2.1: the server's pages in the language this app's page is in.
    url, state = oauth.session(redirect_uri).create_authorization_url(
        server["authorization_endpoint"],
        code_verifier=code_verifier,
        nonce=nonce,
        ui_locales=translation.get_language(),
    )
    _save(
        request,
        {
            "state": state,
            "code_verifier": code_verifier,
            "nonce": nonce,
            "redirect_uri": redirect_uri,
        },
    )
    return redirect(url)


@require_GET
@shows_failures
def callback(request: HttpRequest) -> HttpResponse:
    state = _state(request)
    server = oauth.metadata()
    if not state.get("state") or request.GET.get("state") != state["state"]:
        raise OAuthError("state_mismatch", "The state is not the one this app sent.")
    if request.GET.get("iss") != server["issuer"]:
        raise OAuthError("issuer_mismatch", "The response comes from another issuer.")
    if "error" in request.GET:
        raise OAuthError(request.GET["error"], request.GET.get("error_description", ""))
    token = oauth.session(state["redirect_uri"]).fetch_token(
        server["token_endpoint"],
        authorization_response=request.build_absolute_uri(),
        code_verifier=state["code_verifier"],
        state=state["state"],
    )
    _show_tokens(request, token, server)
    return redirect("democlient:index")


@require_POST
@shows_failures
def refresh(request: HttpRequest) -> HttpResponse:
    state = _state(request)
    server = oauth.metadata()
    token = oauth.session(token=state["token"]).refresh_token(
        server["token_endpoint"], refresh_token=state["token"]["refresh_token"]
    )
    _show_tokens(request, token, server)
    return redirect("democlient:index")


@require_POST
@shows_failures
def revoke(request: HttpRequest) -> HttpResponse:
    state = _state(request)
    server = oauth.metadata()
    response = oauth.session(token=state["token"]).revoke_token(
        server["revocation_endpoint"],
        token=state["token"]["refresh_token"],
        token_type_hint="refresh_token",
    )
    state["revoked"] = response.status_code == 200
    _save(request, state)
    return redirect("democlient:index")


@require_POST
def forget(request: HttpRequest) -> HttpResponse:
    request.session.pop(SESSION_KEY, None)
    return redirect("democlient:index")
