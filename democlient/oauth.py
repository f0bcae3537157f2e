"""The demo app's side of OAuth: what any third-party app does, over HTTP only.

It knows nothing of the server's internals: it reads the discovery document, sends people to
the authorization endpoint with PKCE, and calls the token, userinfo and revocation endpoints
with authlib's requests client.
"""

from __future__ import annotations

from typing import Any

import requests
from authlib.integrations.requests_client import OAuth2Session
from django.conf import settings
from joserfc import jwt
from joserfc.jwk import KeySet

CLIENT_ID = "demo-client"
SCOPE = "openid profile email"
TIMEOUT = 10


def metadata() -> dict[str, Any]:
    response = requests.get(settings.ISSUER + "/.well-known/openid-configuration", timeout=TIMEOUT)
    response.raise_for_status()
    document: dict[str, Any] = response.json()
    return document


def session(redirect_uri: str | None = None, token: dict[str, Any] | None = None) -> OAuth2Session:
    return OAuth2Session(
        client_id=CLIENT_ID,
        scope=SCOPE,
        redirect_uri=redirect_uri,
        token=token,
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
        default_timeout=TIMEOUT,
    )


def decode(token: str, *, server: dict[str, Any], algorithms: list[str]) -> dict[str, Any]:
    """Verify a JWT's signature with the server's published keys; return header and claims."""
    keys = KeySet.import_key_set(requests.get(server["jwks_uri"], timeout=TIMEOUT).json())
    verified = jwt.decode(token, keys, algorithms=algorithms)
    return {"header": verified.header, "claims": verified.claims}


def access_token(token: str, *, server: dict[str, Any]) -> dict[str, Any]:
    """Shown on the demo page only: to a client an access token is opaque."""
    return decode(token, server=server, algorithms=["RS256", "ES256"])


def id_token(token: str, *, server: dict[str, Any], nonce: str | None) -> dict[str, Any]:
    """OpenID Connect Core §3.1.3.7: the signature, then iss, aud, exp, iat and the nonce this
    app sent. (A client must not take an id_token's claims on its signature alone.)"""
    verified = decode(
        token, server=server, algorithms=server["id_token_signing_alg_values_supported"]
    )
    sent: jwt.ClaimsOption = (
        {"essential": True} if nonce is None else {"essential": True, "value": nonce}
    )
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": server["issuer"]},
        aud={"essential": True, "value": CLIENT_ID},
        exp={"essential": True},
        iat={"essential": True},
        nonce=sent,
    ).validate(verified["claims"])
    return verified
