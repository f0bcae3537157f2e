"""Cross-origin calls from browser apps (CORS), for public clients using code + PKCE.

The token, revocation and userinfo endpoints answer an origin only if it belongs to the client
the request is for (its redirect URIs' origins, or ones listed on it), and their errors any
origin a public client registered; discovery and the JWKS, public documents, answer anyone. The
authorization endpoint and the pages never answer CORS: they are for top-level navigation only.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse

from .clients import active_client, browser_origins

View = Callable[[HttpRequest], HttpResponse]
PREFLIGHT_MAX_AGE = "600"


def allow_origin(response: HttpResponse, origin: str) -> None:
    response["Access-Control-Allow-Origin"] = origin
    response["Access-Control-Expose-Headers"] = "WWW-Authenticate, Retry-After"
    vary = response.get("Vary")
    response["Vary"] = f"{vary}, Origin" if vary else "Origin"


def public_document(view: View) -> View:
    """Discovery and JWKS: readable from any origin, no credentials involved."""

    @wraps(view)
    def wrapper(request: HttpRequest) -> HttpResponse:
        response = view(request)
        response["Access-Control-Allow-Origin"] = "*"
        return response

    return wrapper


def for_client_origins(methods: str) -> Callable[[View], View]:
    """Preflights are answered for any origin a public client registered; the response itself
    is shared only with the origins of the client it concerns, which the view names by setting
    `request.oauth_client_id`."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest) -> HttpResponse:
            origin = request.headers.get("Origin")
            if request.method == "OPTIONS":
                response = HttpResponse(status=204)
                if origin and origin.lower() in browser_origins():
                    allow_origin(response, origin)
                    response["Access-Control-Allow-Methods"] = methods
                    response["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
                    response["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
                return response
            response = view(request)
            if origin and shared_with(request, response, origin.lower()):
                allow_origin(response, origin)
            return response

        return wrapper

    return decorator


def shared_with(request: HttpRequest, response: HttpResponse, origin: str) -> bool:
    """A response is for its client's origins. An error is for any browser app's: it holds
    nothing secret, and an app must read it to know that its token expired (a token that
    did not validate names no client to trust)."""
    client_id = getattr(request, "oauth_client_id", None)
    client = active_client(client_id) if client_id else None
    if client is not None and origin in client.cors_origins():
        return True
    return response.status_code >= 400 and origin in browser_origins()
