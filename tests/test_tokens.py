"""The tokens themselves, verified by an independent JOSE library (PyJWT) against the published
JWKS: RFC 9068 access tokens and OpenID Connect Core §2 id_tokens, every claim."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from django.conf import settings
from django.test import Client as HttpClient

from accounts.models import User
from oauth.models import Grant, SigningKey
from tests.conftest import RegisteredClient


def jwks_client(browser: HttpClient) -> jwt.PyJWKSet:
    return jwt.PyJWKSet.from_dict(browser.get("/oauth/jwks").json())


def signing_key(browser: HttpClient, token: str) -> Any:
    kid = jwt.get_unverified_header(token)["kid"]
    return next(key for key in jwks_client(browser).keys if key.key_id == kid)


def test_access_token_is_an_rfc9068_jwt_with_every_claim(
    exchange: Callable[..., dict[str, Any]],
    confidential_client: RegisteredClient,
    browser: HttpClient,
    user: User,
) -> None:
    before = int(time.time())
    tokens = exchange(confidential_client)
    token = tokens["access_token"]

    header = jwt.get_unverified_header(token)
    claims = jwt.decode(
        token,
        signing_key(browser, token).key,
        algorithms=["RS256"],
        audience=settings.ACCESS_TOKEN_AUDIENCE,
        issuer=settings.ISSUER,
        options={"require": ["iss", "sub", "aud", "exp", "iat", "jti", "client_id"]},
    )

    assert header["typ"] == "at+jwt"
    assert header["alg"] == "RS256"
    assert claims["sub"] == str(user.pk)
    assert claims["client_id"] == confidential_client.client_id
    assert claims["scope"] == "openid profile email"
    assert claims["exp"] - claims["iat"] == settings.ACCESS_TOKEN_LIFETIME
    assert before <= claims["iat"] <= int(time.time())
    assert claims["grant_id"] == str(Grant.objects.get().pk)
    assert len(claims["jti"]) >= 16
    assert isinstance(claims["auth_time"], int)


def test_id_token_carries_the_oidc_claims(
    exchange: Callable[..., dict[str, Any]],
    confidential_client: RegisteredClient,
    browser: HttpClient,
    user: User,
) -> None:
    tokens = exchange(confidential_client, nonce="n-0S6_WzA2Mj")
    id_token = tokens["id_token"]

    claims = jwt.decode(
        id_token,
        signing_key(browser, id_token).key,
        algorithms=["RS256"],
        audience=confidential_client.client_id,
        issuer=settings.ISSUER,
        options={"require": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash"]},
    )

    digest = hashlib.sha256(tokens["access_token"].encode("ascii")).digest()
    expected_at_hash = base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
    assert claims["at_hash"] == expected_at_hash
    assert claims["nonce"] == "n-0S6_WzA2Mj"
    assert claims["sub"] == str(user.pk)
    assert claims["exp"] - claims["iat"] == settings.ID_TOKEN_LIFETIME
    assert claims["auth_time"] <= claims["iat"]
    # With an access token beside it, what the scopes tell is UserInfo's (OIDC Core §5.4).
    assert not {"email", "email_verified", "name", "preferred_username"} & set(claims)


def test_id_token_claims_follow_the_scopes(
    exchange: Callable[..., dict[str, Any]], confidential_client: RegisteredClient
) -> None:
    tokens = exchange(confidential_client, scope="openid")

    claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})

    assert "email" not in claims and "name" not in claims


def test_without_openid_scope_there_is_no_id_token(
    exchange: Callable[..., dict[str, Any]], confidential_client: RegisteredClient
) -> None:
    tokens = exchange(confidential_client, scope="profile")

    assert "id_token" not in tokens
    assert tokens["scope"] == "profile"


def test_first_token_creates_a_signing_key_published_in_the_jwks(
    exchange: Callable[..., dict[str, Any]],
    confidential_client: RegisteredClient,
    browser: HttpClient,
) -> None:
    assert not SigningKey.objects.exists()

    tokens = exchange(confidential_client)

    stored = SigningKey.objects.get(state=SigningKey.State.ACTIVE)
    upcoming = SigningKey.objects.get(state=SigningKey.State.NEXT)  # published ahead of use
    assert SigningKey.objects.count() == 2
    assert jwt.get_unverified_header(tokens["access_token"])["kid"] == stored.kid
    published = browser.get("/oauth/jwks").json()["keys"]
    assert [key["kid"] for key in published] == [stored.kid, upcoming.kid]
    assert not {"d", "p", "q", "dp", "dq", "qi"} & published[0].keys()  # public parts only
    assert "PRIVATE KEY" not in stored.private_key_encrypted  # encrypted at rest


def test_jwks_is_served_before_any_token_exists(browser: HttpClient, db: None) -> None:
    response = browser.get("/oauth/jwks")

    keys = response.json()["keys"]
    assert len(keys) == 2  # the active key and the next one
    for key in keys:
        assert key["kty"] == "RSA" and key["use"] == "sig" and key["alg"] == "RS256"
    assert "max-age" in response["Cache-Control"]


@pytest.mark.parametrize("algorithm", ["ES256"])
def test_signing_algorithm_is_a_setting(
    exchange: Callable[..., dict[str, Any]],
    confidential_client: RegisteredClient,
    browser: HttpClient,
    settings: Any,
    algorithm: str,
) -> None:
    settings.ACCESS_TOKEN_ALGORITHM = algorithm
    settings.ID_TOKEN_ALGORITHM = algorithm

    tokens = exchange(confidential_client)

    for token, audience in (
        (tokens["access_token"], settings.ACCESS_TOKEN_AUDIENCE),
        (tokens["id_token"], confidential_client.client_id),
    ):
        assert jwt.get_unverified_header(token)["alg"] == algorithm
        jwt.decode(
            token, signing_key(browser, token).key, algorithms=[algorithm], audience=audience
        )
    assert json.loads(browser.get("/.well-known/openid-configuration").content)[
        "id_token_signing_alg_values_supported"
    ] == [algorithm]
