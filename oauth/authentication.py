"""Bearer access tokens on resource APIs (RFC 6750, RFC 9068), checked without the database.

The check is the signature, by `kid`, with a public key held in memory, then `typ`, `iss`, `aud`,
`exp` and `nbf`. No SQL: that is what lets any number of API servers accept the tokens.

In this project's Django REST framework views:

    from oauth.authentication import BearerTokenAuthentication, HasScope

    class Photos(APIView):
        authentication_classes = [BearerTokenAuthentication]
        permission_classes = [HasScope("photos")]

A separate resource server uses the same module with only the public facts of this server in
its settings: ISSUER, ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ALGORITHM and ACCESS_TOKEN_JWKS_URL
(see infra/remote_jwks.py); it needs neither this server's database nor its models.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from authlib.oauth2.claims import ClaimsOption
from authlib.oauth2.rfc6750 import BearerTokenValidator, InvalidTokenError
from authlib.oauth2.rfc9068 import JWTBearerTokenValidator
from authlib.oauth2.rfc9068.claims import JWTAccessTokenClaims, JWTAccessTokenClaimsValidator
from django.conf import settings
from joserfc import jwt
from joserfc.errors import JoseError
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from infra.remote_jwks import Key, remote_jwks

from .scopes import scope_list

ACCESS_TOKEN_TYPES = {"at+jwt", "application/at+jwt"}
# Ours are under 2 kB; anything far larger is not worth parsing.
MAX_ACCESS_TOKEN_LENGTH = 8192
REALM = "api"
# How far the clock of the instance that issued a token may run ahead of this one's.
CLOCK_SKEW = 60


def verification_key(kid: str) -> Key | None:
    """The public key named `kid`: from ACCESS_TOKEN_JWKS_URL on a resource server that runs
    apart, else from this server's own keys."""
    url = getattr(settings, "ACCESS_TOKEN_JWKS_URL", "")
    if url:
        return remote_jwks(url).find(kid)
    # Imported here, not at the top: a separate resource server has no signing-key models.
    from .keys import verifying_key

    return verifying_key(kid)


class SkewTolerantClaimsValidator(JWTAccessTokenClaimsValidator):
    """`nbf` and `iat` may be up to CLOCK_SKEW seconds ahead of this process's clock: the
    instance that issued the token may run a little ahead. `exp` is held exactly, so no token
    lives longer than it was issued for."""

    def validate_nbf(self, value: object) -> None:
        self._with_leeway(super().validate_nbf, value)

    def validate_iat(self, value: object) -> None:
        self._with_leeway(super().validate_iat, value)

    def _with_leeway(self, check: Callable[[object], None], value: object) -> None:
        self.leeway = CLOCK_SKEW
        try:
            check(value)
        finally:
            self.leeway = 0


class AccessTokenClaims(JWTAccessTokenClaims):
    registry_cls = SkewTolerantClaimsValidator


class AccessTokenValidator(JWTBearerTokenValidator):
    """authlib's RFC 9068 validator, with keys found by `kid` and the `typ` header required."""

    def __init__(self) -> None:
        # Skip the parent's constructor: issuer and audience are read from settings on each use.
        BearerTokenValidator.__init__(self, realm=REALM)

    @property
    def issuer(self) -> str:
        return settings.ISSUER

    @property
    def resource_server(self) -> str:
        return settings.ACCESS_TOKEN_AUDIENCE

    def claims_options(self) -> dict[str, ClaimsOption]:
        essential: ClaimsOption = {"essential": True}
        return {
            "iss": {"essential": True, "value": self.issuer},
            "aud": {"essential": True, "value": self.resource_server},
            "exp": essential,
            "iat": essential,
            "sub": essential,
            "client_id": essential,
            "jti": essential,
            "grant_id": essential,
            "scope": {"essential": False},
        }

    def key_for(self, token: Any) -> Key:
        kid = token.headers().get("kid")
        key = verification_key(kid) if isinstance(kid, str) else None
        if key is None:
            raise InvalidTokenError(description="The token is signed with an unknown key.")
        return key

    def authenticate_token(self, token_string: str) -> JWTAccessTokenClaims:
        if len(token_string) > MAX_ACCESS_TOKEN_LENGTH or token_string.count(".") != 2:
            raise InvalidTokenError(realm=self.realm)
        try:
            token = jwt.decode(
                token_string, key=self.key_for, algorithms=[settings.ACCESS_TOKEN_ALGORITHM]
            )
        except (JoseError, ValueError, TypeError, UnicodeError) as error:
            # ValueError and TypeError: joserfc's answer to malformed segments and headers.
            raise InvalidTokenError(realm=self.realm) from error
        # RFC 9068 §4: the typ header is what keeps an id_token from passing as an access token.
        if str(token.header.get("typ", "")).lower() not in ACCESS_TOKEN_TYPES:
            raise InvalidTokenError(realm=self.realm)
        return AccessTokenClaims(token.claims, token.header, self.claims_options())


class VerifiedTokens:
    """Access tokens this process has verified, remembered until they expire.

    A client sends the same access token with every call of its life; its signature needs
    checking once. The entry is keyed by the whole token, signature included, so any change
    makes another token; its expiry, start and key are checked again on every use.
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self.entries: OrderedDict[tuple[str, str, str], JWTAccessTokenClaims] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple[str, str, str]) -> JWTAccessTokenClaims | None:
        with self.lock:
            claims = self.entries.get(key)
            if claims is not None:
                self.entries.move_to_end(key)
        if claims is None:
            return None
        now = time.time()
        if now >= claims["exp"] or now < claims.get("nbf", 0) - CLOCK_SKEW:
            return None
        if verification_key(claims.header["kid"]) is None:
            return None  # the key was withdrawn
        return claims

    def put(self, key: tuple[str, str, str], claims: JWTAccessTokenClaims) -> None:
        with self.lock:
            self.entries[key] = claims
            if len(self.entries) > self.size:
                self.entries.popitem(last=False)


verified_tokens = VerifiedTokens()


def access_token_claims(token_string: str) -> JWTAccessTokenClaims:
    """The validated claims of an access token; raises authlib's InvalidTokenError."""
    key = (token_string, settings.ISSUER, settings.ACCESS_TOKEN_AUDIENCE)
    claims = verified_tokens.get(key)
    if claims is None:
        validator = AccessTokenValidator()
        claims = validator.authenticate_token(token_string)
        validator.validate_token(claims, scopes=None, request=None)
        verified_tokens.put(key, claims)
    return claims


def bearer_token(authorization: str) -> str:
    """The token of an `Authorization: Bearer …` header value (RFC 6750 §2.1)."""
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise InvalidTokenError(description="A bearer access token is required.")
    return token


class TokenUser:
    """The person an access token speaks for, known from its claims alone."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, claims: Mapping[str, Any]) -> None:
        self.claims = claims
        self.pk = self.id = self.sub = str(claims["sub"])
        self.scopes = frozenset(scope_list(claims.get("scope")))

    def __str__(self) -> str:
        return self.sub


class InvalidToken(exceptions.AuthenticationFailed):
    def __init__(self, description: str) -> None:
        super().__init__({"error": "invalid_token", "error_description": description})


class InsufficientScope(exceptions.PermissionDenied):
    """403 with the scope that was missing (RFC 6750 §3.1)."""

    def __init__(self, scope: str) -> None:
        super().__init__(
            {
                "error": "insufficient_scope",
                "error_description": f"This needs a token with the {scope} scope.",
            }
        )
        self.auth_header = f'Bearer realm="{REALM}", error="insufficient_scope", scope="{scope}"'


class BearerTokenAuthentication(BaseAuthentication):
    """DRF authentication by this server's access tokens. No session, no database."""

    def authenticate(self, request: Request) -> tuple[TokenUser, JWTAccessTokenClaims] | None:
        authorization = request.META.get("HTTP_AUTHORIZATION", "")
        if not authorization:
            return None  # anonymous: the permissions decide, with a 401 from authenticate_header
        try:
            claims = access_token_claims(bearer_token(authorization))
        except InvalidTokenError as error:
            raise InvalidToken(error.description or InvalidTokenError.description) from None
        return TokenUser(claims), claims

    def authenticate_header(self, request: Request) -> str:
        return f'Bearer realm="{REALM}", error="invalid_token"'


def HasScope(scope: str) -> type[BasePermission]:  # noqa: N802  (reads as a class in views)
    """A DRF permission: a valid access token that carries `scope`."""

    class HasScopePermission(BasePermission):
        def has_permission(self, request: Request, view: Any) -> bool:
            user = request.user
            if not isinstance(user, TokenUser):
                return False  # DRF answers 401 with our WWW-Authenticate
            if scope not in user.scopes:
                raise InsufficientScope(scope)
            return True

    HasScopePermission.__name__ = HasScopePermission.__qualname__ = f"HasScope_{scope}"
    return HasScopePermission
