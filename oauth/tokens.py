"""Issuing access tokens: RFC 9068 JWTs signed with the active key. (Checking them is
authentication.py's job.)"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from django.conf import settings
from joserfc.jwk import KeySet

from .claims import user_claims
from .hashing import generate_secret
from .keys import active_signing_key
from .models import Client


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

    def get_jti(self, client: Client, grant_type: str, user: Any, scope: str) -> str:
        """128 random bits, in one call (authlib draws each character separately)."""
        return secrets.token_urlsafe(16)

    def get_audiences(self, client: Client, user: Any, scope: str) -> str:
        return settings.ACCESS_TOKEN_AUDIENCE

    def get_auth_time(self, user: Any) -> int | None:
        return self.auth_time

    def get_extra_claims(
        self, client: Client, grant_type: str, user: Any, scope: str
    ) -> dict[str, Any]:
        """The grant, and what the scopes allow to be known of the person: resource servers
        answer from the token alone (RFC 9068 §2.2.3.1), with no lookup."""
        return {**user_claims(user, scope), "grant_id": str(self.grant_id)}
