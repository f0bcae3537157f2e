"""The client-facing protocol endpoints: thin views over the authlib server (server.py).

Each endpoint has one boundary. OAuth errors become the RFC 6749 JSON with `Cache-Control:
no-store`; a ValueError from malformed input becomes `invalid_request`; nothing a client sends
can cause a 500. (The authorization endpoint, which people see, is in authorize.py.)
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from functools import wraps
from urllib.parse import unquote

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import (
    InvalidClientError,
    InvalidRequestError,
    UnauthorizedClientError,
)
from authlib.oauth2.rfc6750 import InvalidTokenError
from django.core.exceptions import BadRequest, RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from infra.origin import Origin
from infra.ratelimit import address_subject

from . import native
from .authentication import access_token_claims, bearer_token
from .claims import user_claims
from .clients import active_client
from .cors import for_client_origins, public_document
from .discovery import server_metadata
from .errors import ClientAuthenticationFailed, GrantTypeUnsupported, ScopeMissing
from .keys import published_jwks
from .limits import limit_hit
from .models import Grant, GrantType
from .scopes import scope_list
from .server import server

View = Callable[[HttpRequest, str | None], HttpResponse]

# Longer values are refused rather than stored or echoed (redirect URIs, states, nonces…).
MAX_PARAMETER_LENGTH = 4096


def error_response(error: OAuth2Error) -> HttpResponse:
    return server.handle_error_response(None, error)


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


def claimed_client_id(request: HttpRequest) -> str | None:
    """The client the request says it comes from (Basic or body), before it is verified.

    A malformed `Authorization: Basic` header is a failed client authentication (401).
    """
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return request.POST.get("client_id")
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        decoded = ""
    if ":" not in decoded or "\x00" in decoded:
        raise InvalidClientError(status_code=401, description="Malformed Basic credentials.")
    if "client_secret" in request.POST:
        raise InvalidRequestError("Use one client authentication method, not two.")
    client_id = unquote(decoded.partition(":")[0])
    if request.POST.get("client_id", client_id) != client_id:
        raise InvalidRequestError("The body names another client than the credentials.")
    return client_id


def form_endpoint(view: View) -> Callable[[HttpRequest], HttpResponse]:
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
            request.oauth_client_id = claimed_client_id(request)  # type: ignore[attr-defined]
            return view(request, request.oauth_client_id)  # type: ignore[attr-defined]
        except OAuth2Error as error:
            return error_response(error)
        except (RequestDataTooBig, TooManyFieldsSent):
            return error_response(InvalidRequestError("The request body is too large."))
        except BadRequest:
            # A form body in another charset than UTF-8, refused by Django. Never under our
            # handlers (handlers.py reads every request as UTF-8); under Django's own, as
            # its test client and live server use.
            return error_response(InvalidRequestError("Send the request body in UTF-8."))
        except ValueError:
            # authlib raises ValueError on some malformed input (RFC 6749 character rules).
            return error_response(InvalidRequestError("The request is malformed."))

    return endpoint


@for_client_origins("POST")
@form_endpoint
def token(request: HttpRequest, client_id: str | None) -> HttpResponse:
    """Counted per address here, and per client once it has authenticated (server.py): a
    request merely naming a client must not use up that client's allowance."""
    origin = Origin.of(request)
    limit_hit("token_address", address_subject(origin.ip_address), origin)
    grant_type = request.POST.get("grant_type")
    if not grant_type:
        raise InvalidRequestError("Missing grant_type.")
    if grant_type not in GrantType.values and grant_type != native.TOKEN_EXCHANGE:
        raise GrantTypeUnsupported()
    response: HttpResponse = server.create_token_response(request)
    return response


@for_client_origins("POST")
@form_endpoint
def revoke(request: HttpRequest, client_id: str | None) -> HttpResponse:
    """Counted per address, as at the token endpoint: failed client authentications too."""
    origin = Origin.of(request)
    limit_hit("revocation_address", address_subject(origin.ip_address), origin)
    response: HttpResponse = server.create_endpoint_response("revocation", request)
    return response


@form_endpoint
def introspect(request: HttpRequest, client_id: str | None) -> HttpResponse:
    """Counted per address, failed client authentications too, and per client once it has
    authenticated (endpoints.py)."""
    origin = Origin.of(request)
    limit_hit("introspection_address", address_subject(origin.ip_address), origin)
    response: HttpResponse = server.create_endpoint_response("introspection", request)
    return response


@form_endpoint
def native_nonce(request: HttpRequest, client_id: str | None) -> HttpResponse:
    """A nonce for one SDK sign-in of our own native app: the provider's id_token must carry it
    when the app exchanges it at the token endpoint (native.py). Counted per address."""
    origin = Origin.of(request)
    limit_hit("native_nonce_address", address_subject(origin.ip_address), origin)
    client = active_client(client_id) if client_id else None
    if client is None or not client.is_public or "Authorization" in request.headers:
        raise ClientAuthenticationFailed()  # native apps are public: they name themselves
    if not client.native:
        raise UnauthorizedClientError("Only our own native apps sign in with a nonce.")
    response = JsonResponse(
        {"nonce": native.nonce_issue(client), "expires_in": native.NONCE_LIFETIME}
    )
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt
@for_client_origins("GET, POST")
@require_http_methods(["GET", "POST"])
def userinfo(request: HttpRequest) -> HttpResponse:
    """OIDC Core §5.3. The grant is looked up with the user, so a revoked grant is refused."""
    try:
        claims = access_token_claims(presented_access_token(request))
        request.oauth_client_id = claims.get("client_id")  # type: ignore[attr-defined]
        if "openid" not in scope_list(claims.get("scope")):
            raise ScopeMissing("openid")
        grant = (
            Grant.objects.active()
            .select_related("user", "client")
            .filter(pk=claims["grant_id"], user__is_active=True, client__is_active=True)
            .first()
        )
        if grant is None:
            raise InvalidTokenError(description="The grant of this token has been revoked.")
    except OAuth2Error as error:
        return error_response(error)
    response = JsonResponse(user_claims(grant.user, claims.get("scope", "")))
    response["Cache-Control"] = "no-store"
    return response


def presented_access_token(request: HttpRequest) -> str:
    """The bearer token in the Authorization header (RFC 6750 §2.1) or in a form-encoded POST
    body (§2.2), one way only (§2)."""
    header = request.headers.get("Authorization")
    in_body = None
    if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
        try:
            check_parameters(request.POST)
            in_body = request.POST.get("access_token")
        except (RequestDataTooBig, TooManyFieldsSent, BadRequest):
            raise InvalidRequestError("The request body is malformed.") from None
    if in_body is None:
        return bearer_token(header or "")
    if header:
        raise InvalidRequestError("Send the access token one way, not two.")
    return in_body


@public_document
@require_GET
@cache_control(public=True, max_age=300)
def jwks(request: HttpRequest) -> HttpResponse:
    return JsonResponse(published_jwks())


@public_document
@require_GET
@cache_control(public=True, max_age=3600)
def openid_configuration(request: HttpRequest) -> HttpResponse:
    return JsonResponse(server_metadata(openid=True))


@public_document
@require_GET
@cache_control(public=True, max_age=3600)
def oauth_authorization_server(request: HttpRequest) -> HttpResponse:
    return JsonResponse(server_metadata(openid=False))
