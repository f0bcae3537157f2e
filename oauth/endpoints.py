"""Token revocation (RFC 7009) and introspection (RFC 7662) over our grants.

Either kind of token leads to its grant: a refresh token through its row, an access token
through the `grant_id` claim of its verified JWT. Revoking either revokes the grant, so the
whole token family stops (RFC 7009 §2.1 allows it, and a leaked token's siblings are suspect).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc6750 import InvalidTokenError
from authlib.oauth2.rfc7009 import RevocationEndpoint as BaseRevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint as BaseIntrospectionEndpoint
from django.conf import settings
from django.utils import timezone

from . import services
from .authentication import access_token_claims
from .hashing import secret_hash
from .limits import limit_hit
from .models import CLIENT_AUTH_METHODS, CONFIDENTIAL_AUTH_METHODS, Client, Grant, RefreshToken
from .scopes import scope_list


@dataclass
class PresentedToken:
    """A token a client showed us, resolved to its grant. authlib's TokenMixin interface."""

    token_type: str
    grant: Grant
    scope: str
    issued_at: int
    expires_at: int
    jti: str | None = None
    used: bool = False

    def check_client(self, client: Client) -> bool:
        return self.grant.client_id == client.pk

    def get_scope(self) -> str:
        return self.scope

    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now().timestamp()

    def is_revoked(self) -> bool:
        grant = self.grant
        live = grant.is_active and grant.user.is_active and grant.client.is_active
        return self.used or not live


def _access_token(token: str) -> PresentedToken | None:
    if token.count(".") != 2:
        return None
    try:
        claims = access_token_claims(token)
    except InvalidTokenError:
        return None
    grant = Grant.objects.select_related("user", "client").filter(pk=claims["grant_id"]).first()
    if grant is None:
        return None
    return PresentedToken(
        token_type="access_token",
        grant=grant,
        scope=claims.get("scope", ""),
        issued_at=claims["iat"],
        expires_at=claims["exp"],
        jti=claims["jti"],
    )


def _refresh_token(token: str) -> PresentedToken | None:
    found = (
        RefreshToken.objects.select_related("grant__user", "grant__client")
        .filter(token_hash=secret_hash(token))
        .first()
    )
    if found is None:
        return None
    return PresentedToken(
        token_type="refresh_token",
        grant=found.grant,
        scope=found.grant.scope,
        issued_at=int(found.created_at.timestamp()),
        expires_at=int(found.expires_at.timestamp()),
        used=found.used_at is not None,
    )


def presented_token(token: str, token_type_hint: str | None) -> PresentedToken | None:
    """Look the token up as the hinted type first, then as the other (RFC 7009 §2.1)."""
    lookups = [_access_token, _refresh_token]
    if token_type_hint == "refresh_token":
        lookups.reverse()
    for lookup in lookups:
        found = lookup(token)
        if found is not None:
            return found
    return None


class TokenHintIsAHint:
    """RFC 7009 §2.1, RFC 7662 §2.1: a `token_type_hint` this server does not know is ignored
    and the token looked up as every type (authlib refuses it with unsupported_token_type)."""

    def check_params(self, request: Any, client: Client) -> None:
        if "token" not in request.form:
            raise InvalidRequestError("Missing token.")


class RevocationEndpoint(TokenHintIsAHint, BaseRevocationEndpoint):
    CLIENT_AUTH_METHODS = list(CLIENT_AUTH_METHODS)

    def query_token(self, token_string: str, token_type_hint: str | None) -> PresentedToken | None:
        return presented_token(token_string, token_type_hint)

    def revoke_token(self, token: PresentedToken, request: Any) -> None:
        services.grant_revoke(grant_id=token.grant.id)


class IntrospectionEndpoint(TokenHintIsAHint, BaseIntrospectionEndpoint):
    """Confidential clients may introspect their own tokens; resource servers, any token."""

    CLIENT_AUTH_METHODS = list(CONFIDENTIAL_AUTH_METHODS)

    def authenticate_endpoint_client(self, request: Any) -> Client:
        """Counted against the client's rate limit once it has authenticated."""
        client: Client = super().authenticate_endpoint_client(request)
        limit_hit("introspection_client", client.client_id, request.origin)
        return client

    def query_token(self, token_string: str, token_type_hint: str | None) -> PresentedToken | None:
        return presented_token(token_string, token_type_hint)

    def check_permission(self, token: PresentedToken, client: Client, request: Any) -> bool:
        return client.introspect_any_token or token.check_client(client)

    def introspect_token(self, token: PresentedToken) -> dict[str, Any]:
        grant = token.grant
        payload: dict[str, Any] = {
            "active": True,
            "scope": token.scope,
            "client_id": grant.client.client_id,
            "sub": grant.user.sub,
            "iss": settings.ISSUER,
            "iat": token.issued_at,
            "exp": token.expires_at,
        }
        if "profile" in scope_list(token.scope):
            # Only what the grant lets be known of the person (the username is often the email's
            # local part): as the userinfo endpoint would answer.
            payload["username"] = grant.user.get_username()
        if token.token_type == "access_token":
            payload.update(token_type="Bearer", aud=settings.ACCESS_TOKEN_AUDIENCE, jti=token.jti)
        return payload
