"""Bearer access tokens on resource endpoints (RFC 6750), checked without the database."""

from __future__ import annotations

from authlib.oauth2.rfc6750 import InsufficientScopeError, InvalidTokenError
from authlib.oauth2.rfc9068.claims import JWTAccessTokenClaims
from django.http import HttpRequest

from .scopes import scope_list
from .tokens import access_token_claims


def bearer_token(request: HttpRequest) -> str:
    """The token of an `Authorization: Bearer …` header (RFC 6750 §2.1)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise InvalidTokenError(description="A bearer access token is required.")
    return token


def bearer_claims(request: HttpRequest, *, scope: str) -> JWTAccessTokenClaims:
    """The verified claims of the request's access token, which must carry `scope`."""
    claims = access_token_claims(bearer_token(request))
    if scope not in scope_list(claims.get("scope")):
        raise InsufficientScopeError()
    return claims
