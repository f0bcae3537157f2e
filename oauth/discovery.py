"""Server metadata: OpenID Connect Discovery 1.0 and RFC 8414, from one description."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse

from . import native
from .models import CLIENT_AUTH_METHODS, CONFIDENTIAL_AUTH_METHODS, GrantType
from .scopes import SUPPORTED_SCOPES

# OIDC Core §3.1.2.1, select_account answered by the sign-in page (where another account can be
# chosen).
PROMPT_VALUES = ("none", "login", "consent", "select_account")


def server_metadata(*, openid: bool) -> dict[str, Any]:
    def url(name: str) -> str:
        return settings.ISSUER + reverse(name)

    metadata: dict[str, Any] = {
        "issuer": settings.ISSUER,
        "authorization_endpoint": url("oauth:authorize"),
        "token_endpoint": url("oauth:token"),
        "jwks_uri": url("oauth:jwks"),
        "revocation_endpoint": url("oauth:revoke"),
        "introspection_endpoint": url("oauth:introspect"),
        "userinfo_endpoint": url("oauth:userinfo"),
        # RFC 7591, served by the developer console's app (developers/) for this server.
        "registration_endpoint": url("client-registration"),
        "scopes_supported": list(SUPPORTED_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        # RFC 8414 §2: what this server supports; the exchange only once some sign-in for it is
        # configured (it is for native clients alone, which RFC 8414 has no way to say).
        "grant_types_supported": [
            *GrantType.values,
            *([native.TOKEN_EXCHANGE] if native.exchange_offered() else []),
        ],
        "token_endpoint_auth_methods_supported": list(CLIENT_AUTH_METHODS),
        "revocation_endpoint_auth_methods_supported": list(CLIENT_AUTH_METHODS),
        "introspection_endpoint_auth_methods_supported": list(CONFIDENTIAL_AUTH_METHODS),
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
        "ui_locales_supported": [code for code, _ in settings.LANGUAGES],
    }
    if openid:
        metadata.update(
            subject_types_supported=["public"],
            id_token_signing_alg_values_supported=[settings.ID_TOKEN_ALGORITHM],
            claims_supported=[
                "sub",
                "iss",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "nonce",
                "at_hash",
                "sid",
                "name",
                "preferred_username",
                "given_name",
                "family_name",
                "picture",
                "updated_at",
                "email",
                "email_verified",
            ],
            prompt_values_supported=list(PROMPT_VALUES),
            claims_parameter_supported=False,
            request_parameter_supported=False,
            request_uri_parameter_supported=False,
            # OpenID Connect RP-Initiated Logout 1.0 and Back-Channel Logout 1.0
            end_session_endpoint=url("oauth:logout"),
            backchannel_logout_supported=True,
            backchannel_logout_session_supported=True,
        )
    return metadata
