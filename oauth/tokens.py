"""Access tokens (RFC 9068 JWTs) and their validation, which needs no database.

The hot path of every resource API is `AccessTokenValidator`: one signature check with a key
cached in memory, then iss, aud, exp, nbf and typ. Revocation is seen by introspection, which
looks the grant up; resource servers accept the short lifetime of access tokens instead.
"""

from __future__ import annotations

import uuid
from typing import Any

from authlib.oauth2.claims import ClaimsOption
from authlib.oauth2.rfc6750 import BearerTokenValidator, InvalidTokenError
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator, JWTBearerTokenValidator
from authlib.oauth2.rfc9068.claims import JWTAccessTokenClaims
from django.conf import settings
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from .hashing import generate_secret
from .keys import active_signing_key, verifying_keys
from .models import Client

ACCESS_TOKEN_TYPES = {"at+jwt", "application/at+jwt"}
# Ours are under 1.5 kB; anything far larger is not worth parsing.
MAX_ACCESS_TOKEN_LENGTH = 8192


class AccessTokenGenerator(JWTBearerTokenGenerator):
    """Issues the token response of one grant: a signed access token and an opaque refresh token.

    Made per request, because the claims name the grant the tokens belong to.
    """

    def __init__(self, *, grant_id: uuid.UUID, auth_time: int | None) -> None:
        super().__init__(
            issuer=settings.ISSUER,
            alg=settings.ACCESS_TOKEN_ALGORITHM,
            refresh_token_generator=lambda **_: generate_secret(),
            expires_generator=lambda client, grant_type: client.access_token_seconds(),
        )
        self.grant_id = grant_id
        self.auth_time = auth_time

    def get_jwks(self) -> KeySet:
        return active_signing_key(self.alg)

    def get_audiences(self, client: Client, user: Any, scope: str) -> str:
        return settings.ACCESS_TOKEN_AUDIENCE

    def get_auth_time(self, user: Any) -> int | None:
        return self.auth_time

    def get_extra_claims(self, client: Client, grant_type: str, user: Any, scope: str) -> dict:
        return {"grant_id": str(self.grant_id)}


class AccessTokenValidator(JWTBearerTokenValidator):
    """Validates this server's access tokens from the signature and claims alone (no SQL)."""

    def __init__(self) -> None:
        # Skip the parent's constructor: issuer and audience are read from settings on each use.
        BearerTokenValidator.__init__(self)

    @property
    def issuer(self) -> str:  # type: ignore[override]
        return settings.ISSUER

    @property
    def resource_server(self) -> str:  # type: ignore[override]
        return settings.ACCESS_TOKEN_AUDIENCE

    def get_jwks(self) -> KeySet:
        return verifying_keys()

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

    def authenticate_token(self, token_string: str) -> JWTAccessTokenClaims:
        if len(token_string) > MAX_ACCESS_TOKEN_LENGTH:
            raise InvalidTokenError(realm=self.realm)
        try:
            token = jwt.decode(
                token_string, key=self.get_jwks(), algorithms=[settings.ACCESS_TOKEN_ALGORITHM]
            )
        except (JoseError, ValueError, TypeError) as error:
            # ValueError and TypeError: joserfc's answer to an unknown kid or a malformed header.
            raise InvalidTokenError(realm=self.realm) from error
        # RFC 9068 §4: the typ header is what keeps an id_token from passing as an access token.
        if str(token.header.get("typ", "")).lower() not in ACCESS_TOKEN_TYPES:
            raise InvalidTokenError(realm=self.realm)
        return JWTAccessTokenClaims(token.claims, token.header, self.claims_options())


def access_token_claims(token_string: str) -> JWTAccessTokenClaims:
    """The validated claims of an access token; raises InvalidTokenError."""
    validator = AccessTokenValidator()
    claims = validator.authenticate_token(token_string)
    validator.validate_token(claims, scopes=None, request=None)
    return claims
