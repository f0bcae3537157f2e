"""Resource APIs with DRF and this server's access tokens: RFC 6750 errors, RFC 9068 validation,
and not one SQL query on the way (the point of stateless tokens)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.test import Client as HttpClient
from joserfc import jwt
from joserfc.jwk import RSAKey

from accounts.models import User
from oauth import jwks
from oauth.keys import active_signing_key, key_ring
from tests.conftest import RegisteredClient


@pytest.fixture
def tokens(exchange: Callable[..., dict[str, Any]], confidential_client: RegisteredClient) -> Any:
    return exchange(confidential_client)


def call_me(browser: HttpClient, token: str | None = None, **headers: str) -> Any:
    if token is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return browser.get("/api/me", **headers)


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def forge(claims: dict[str, Any], **header: Any) -> str:
    """A token signed with this server's real active key, with whatever claims a test needs."""
    header = {"alg": "RS256", "typ": "at+jwt", **header}
    return jwt.encode(header, claims, active_signing_key("RS256"))


def test_me_returns_the_profile_from_the_token_with_no_query(
    browser: HttpClient,
    tokens: dict[str, Any],
    user: User,
    django_assert_num_queries: Any,
) -> None:
    with django_assert_num_queries(0):
        response = call_me(browser, tokens["access_token"])

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {
        "sub": str(user.pk),
        "name": "Alice Example",
        "preferred_username": "alice",
        "given_name": "Alice",
        "family_name": "Example",
        "email": "alice@example.com",
        "email_verified": True,
    }


def test_me_needs_the_profile_scope(
    browser: HttpClient,
    exchange: Callable[..., dict[str, Any]],
    confidential_client: RegisteredClient,
) -> None:
    tokens = exchange(confidential_client, scope="openid email")

    response = call_me(browser, tokens["access_token"])

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json()["error"] == "insufficient_scope"
    assert response["WWW-Authenticate"] == (
        'Bearer realm="api", error="insufficient_scope", scope="profile"'
    )


def test_missing_token_is_401_invalid_token(browser: HttpClient, db: None) -> None:
    response = call_me(browser)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'


def test_session_cookies_do_not_open_the_api(signed_in: HttpClient) -> None:
    assert call_me(signed_in).status_code == HTTPStatus.UNAUTHORIZED


def test_expired_token_is_refused(browser: HttpClient, tokens: dict[str, Any]) -> None:
    with time_machine.travel(time.time() + settings.ACCESS_TOKEN_LIFETIME + 1):
        response = call_me(browser, tokens["access_token"])

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"] == "invalid_token"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_signed_with(secret: bytes, header: dict[str, Any], claims: dict[str, Any]) -> str:
    """The classic confusion attack: the public key used as an HMAC secret (joserfc refuses to
    build such a key, so the signature is made by hand)."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def bad_tokens(good: str) -> dict[str, str]:
    claims = claims_of(good)
    header = json.loads(base64.urlsafe_b64decode(good.split(".")[0] + "=="))
    public = RSAKey.import_key(key_ring().verifying[header["kid"]].as_dict(private=False))
    head, body, signature = good.split(".")
    tampered_claims = base64.urlsafe_b64encode(
        json.dumps({**claims, "sub": "someone-else"}).encode()
    ).rstrip(b"=")
    none_header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"at+jwt"}').rstrip(b"=")
    stranger = RSAKey.generate_key(2048, parameters={"kid": header["kid"]})
    return {
        "not-a-jwt": "opaque-token-value",
        "garbage-segments": "a.b.c",
        "bad-base64": "%%%.%%%.%%%",
        "tampered-claims": f"{head}.{tampered_claims.decode()}.{signature}",
        "alg-none": f"{none_header.decode()}.{body}.",
        "hs256-with-public-key": hs256_signed_with(
            public.as_pem(), {"alg": "HS256", "typ": "at+jwt", "kid": header["kid"]}, claims
        ),
        "signed-by-a-stranger": jwt.encode(
            {"alg": "RS256", "typ": "at+jwt", "kid": header["kid"]}, claims, stranger
        ),
        "unknown-kid": jwt.encode(
            {"alg": "RS256", "typ": "at+jwt", "kid": "no-such-key"}, claims, stranger
        ),
        "no-kid": jwt.encode({"alg": "RS256", "typ": "at+jwt"}, claims, stranger),
        "wrong-typ": forge(claims, typ="JWT"),
        "no-typ": jwt.encode({"alg": "RS256"}, claims, active_signing_key("RS256")),
        "other-issuer": forge({**claims, "iss": "https://evil.example"}),
        "other-audience": forge({**claims, "aud": "https://other-api.example"}),
        "not-yet-valid": forge({**claims, "nbf": int(time.time()) + 3600}),
        "expired": forge({**claims, "exp": int(time.time()) - 1}),
        "without-grant": forge({k: v for k, v in claims.items() if k != "grant_id"}),
        "huge": "a" * 9000 + "." + "b" * 9000 + "." + "c",
    }


@pytest.mark.parametrize(
    "name",
    [
        "not-a-jwt", "garbage-segments", "bad-base64", "tampered-claims", "alg-none",
        "hs256-with-public-key", "signed-by-a-stranger", "unknown-kid", "no-kid", "wrong-typ",
        "no-typ", "other-issuer", "other-audience", "not-yet-valid", "expired", "without-grant",
        "huge",
    ],
)  # fmt: skip
def test_bad_tokens_are_401_invalid_token_without_a_query(
    browser: HttpClient, tokens: dict[str, Any], django_assert_num_queries: Any, name: str
) -> None:
    token = bad_tokens(tokens["access_token"])[name]

    with django_assert_num_queries(0):
        response = call_me(browser, token)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"] == "invalid_token"
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_id_token_is_not_an_access_token(browser: HttpClient, tokens: dict[str, Any]) -> None:
    assert call_me(browser, tokens["id_token"]).status_code == HTTPStatus.UNAUTHORIZED


@pytest.mark.parametrize(
    "header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "bearer", "Token abc", "Bearer \x7f"]
)
def test_malformed_authorization_headers(browser: HttpClient, db: None, header: str) -> None:
    response = browser.get("/api/me", HTTP_AUTHORIZATION=header)

    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_huge_authorization_header(browser: HttpClient, db: None) -> None:
    response = browser.get("/api/me", HTTP_AUTHORIZATION="Bearer " + "x" * 100_000)

    assert response.status_code == HTTPStatus.UNAUTHORIZED


class JWKSServer(BaseHTTPRequestHandler):
    """A resource server's view of the issuer: only its JWKS URL. Counts the fetches."""

    document: dict[str, Any]
    fetches: list[float]

    def do_GET(self) -> None:  # noqa: N802
        self.fetches.append(time.time())
        body = json.dumps(self.document).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def remote_jwks(settings: Any, tokens: dict[str, Any]) -> Iterator[JWKSServer]:
    handler = type("Handler", (JWKSServer,), {"document": key_ring().jwks, "fetches": []})
    httpd = HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    settings.ACCESS_TOKEN_JWKS_URL = f"http://127.0.0.1:{httpd.server_port}/jwks"
    jwks._remote.clear()
    yield handler  # type: ignore[misc]
    httpd.shutdown()
    httpd.server_close()
    jwks._remote.clear()


def test_a_separate_resource_server_verifies_with_the_jwks_url(
    browser: HttpClient,
    tokens: dict[str, Any],
    remote_jwks: Any,
    django_assert_num_queries: Any,
) -> None:
    with django_assert_num_queries(0):
        first = call_me(browser, tokens["access_token"])
        second = call_me(browser, tokens["access_token"])

    assert first.status_code == second.status_code == HTTPStatus.OK
    assert len(remote_jwks.fetches) == 1  # cached after the first fetch


def test_unknown_kid_refetches_the_jwks_at_most_once_a_minute(
    browser: HttpClient, tokens: dict[str, Any], remote_jwks: Any
) -> None:
    stranger = RSAKey.generate_key(2048, parameters={"kid": "rotated-in"})
    unknown = jwt.encode(
        {"alg": "RS256", "typ": "at+jwt", "kid": "rotated-in"},
        claims_of(tokens["access_token"]),
        stranger,
    )
    call_me(browser, tokens["access_token"])  # first fetch

    with time_machine.travel(time.time() + 61) as clock:
        for _ in range(5):
            assert call_me(browser, unknown).status_code == HTTPStatus.UNAUTHORIZED
        assert len(remote_jwks.fetches) == 2  # one refetch for the burst
        remote_jwks.document = {
            "keys": [*remote_jwks.document["keys"], stranger.as_dict(private=False)]
        }
        clock.shift(61)
        assert call_me(browser, unknown).status_code == HTTPStatus.OK
    assert len(remote_jwks.fetches) == 3
