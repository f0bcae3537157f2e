"""Resource APIs with DRF and this server's access tokens: RFC 6750 errors, RFC 9068 validation,
and not one SQL query on the way (the point of stateless tokens)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.test import Client as HttpClient
from joserfc import jws, jwt
from joserfc.jwk import RSAKey

from accounts.models import User
from infra import remote_jwks as jwks
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
        "updated_at": int(user.updated_at.timestamp()),
        "email": "alice@example.com",
        "email_verified": True,
    }
    assert response["Cache-Control"] == "no-store"  # a person's data: no cache keeps it


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
    assert response["Cache-Control"] == "no-store"


def test_missing_token_is_401_invalid_token(browser: HttpClient, db: None) -> None:
    response = call_me(browser)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'
    assert response["Cache-Control"] == "no-store"


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
    signing_key = active_signing_key("RS256").keys[0]
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
        # jwt.encode would add typ: JWT; an RFC 9068 token without typ is no access token either.
        "no-typ": jws.serialize_compact(
            {"alg": "RS256", "kid": header["kid"]}, json.dumps(claims), signing_key
        ),
        "other-issuer": forge({**claims, "iss": "https://evil.example"}),
        "other-audience": forge({**claims, "aud": "https://other-api.example"}),
        "not-yet-valid": forge({**claims, "nbf": int(time.time()) + 3600}),
        "issued-in-the-future": forge({**claims, "iat": int(time.time()) + 3600}),
        "expired": forge({**claims, "exp": int(time.time()) - 1}),
        "without-grant": forge({k: v for k, v in claims.items() if k != "grant_id"}),
        "huge": "a" * 9000 + "." + "b" * 9000 + "." + "c",
    }


@pytest.mark.parametrize(
    "name",
    [
        "not-a-jwt", "garbage-segments", "bad-base64", "tampered-claims", "alg-none",
        "hs256-with-public-key", "signed-by-a-stranger", "unknown-kid", "no-kid", "wrong-typ",
        "no-typ", "other-issuer", "other-audience", "not-yet-valid", "issued-in-the-future",
        "expired", "without-grant", "huge",
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


def test_a_token_from_an_instance_whose_clock_runs_a_little_ahead_is_accepted_at_once(
    browser: HttpClient, tokens: dict[str, Any]
) -> None:
    ahead = int(time.time()) + 30
    token = forge({**claims_of(tokens["access_token"]), "iat": ahead, "nbf": ahead})

    assert call_me(browser, token).status_code == HTTPStatus.OK
    assert call_me(browser, token).status_code == HTTPStatus.OK  # and once remembered


def assert_invalid_token(response: Any) -> None:
    """RFC 6750 §3.1: 401, the error in the body and in WWW-Authenticate."""
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"] == "invalid_token"
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_id_token_is_not_an_access_token(
    browser: HttpClient, tokens: dict[str, Any], django_assert_num_queries: Any
) -> None:
    """Its audience is the client, and its typ is not at+jwt: either alone refuses it."""
    id_claims = claims_of(tokens["id_token"])
    with django_assert_num_queries(0):
        assert_invalid_token(call_me(browser, tokens["id_token"]))
        # With the API's audience and every access token claim, a JWT typ is still refused.
        as_if_for_the_api = {**claims_of(tokens["access_token"]), **id_claims}
        as_if_for_the_api["aud"] = settings.ACCESS_TOKEN_AUDIENCE
        assert_invalid_token(call_me(browser, forge(as_if_for_the_api, typ="JWT")))


@pytest.mark.parametrize(
    "header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "bearer", "Token abc", "Bearer \x7f"]
)
def test_malformed_authorization_headers(
    browser: HttpClient, db: None, header: str, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(0):
        response = browser.get("/api/me", HTTP_AUTHORIZATION=header)

    assert_invalid_token(response)


def test_huge_authorization_header(
    browser: HttpClient, db: None, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(0):
        response = browser.get("/api/me", HTTP_AUTHORIZATION="Bearer " + "x" * 100_000)

    assert_invalid_token(response)


class JWKSServer(BaseHTTPRequestHandler):
    """A resource server's view of the issuer: only its JWKS URL. Counts the fetches."""

    document: Any  # served as JSON; a str is served as it is
    fetches: list[float]
    cache_control: str | None = None

    def do_GET(self) -> None:  # noqa: N802
        self.fetches.append(time.time())
        document = self.document
        body = (document if isinstance(document, str) else json.dumps(document)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if self.cache_control is not None:
            self.send_header("Cache-Control", self.cache_control)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def remote_jwks(
    settings: Any, tokens: dict[str, Any], serve: Callable[..., str]
) -> Iterator[JWKSServer]:
    handler = type("Handler", (JWKSServer,), {"document": key_ring().jwks, "fetches": []})
    settings.ACCESS_TOKEN_JWKS_URL = serve(handler) + "/jwks"
    jwks._remote.clear()
    yield handler  # type: ignore[misc]
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


@pytest.mark.parametrize(
    ("cache_control", "fresh_for"),
    [("public, max-age=300", 300), (None, 300), ("max-age=120", 120), ("no-store", 60)],
)
def test_a_key_the_issuer_stops_publishing_stops_being_trusted(
    browser: HttpClient,
    tokens: dict[str, Any],
    remote_jwks: Any,
    cache_control: str | None,
    fresh_for: int,
) -> None:
    """A retired key, or one withdrawn after a compromise, is dropped once the JWKS response
    may no longer be used (its max-age, five minutes without one, an hour at most), even though
    no token names an unknown kid."""
    remote_jwks.cache_control = cache_control
    assert call_me(browser, tokens["access_token"]).status_code == HTTPStatus.OK
    remote_jwks.document = {"keys": []}

    with time_machine.travel(time.time() + fresh_for - 10) as clock:
        assert call_me(browser, tokens["access_token"]).status_code == HTTPStatus.OK
        assert len(remote_jwks.fetches) == 1
        clock.shift(20)
        assert_invalid_token(call_me(browser, tokens["access_token"]))
    assert len(remote_jwks.fetches) == 2


@pytest.mark.parametrize(
    "document",
    [
        {"nope": 1},
        [1, 2],
        {"keys": "x"},
        {"keys": [{"kty": "RSA"}]},
        {"keys": [{"kty": "oct", "k": "c2hhcmVkLXNlY3JldA", "kid": "shared"}]},
        {"keys": [{"kty": ["RSA"], "kid": "listed"}]},
        "<html>not JSON</html>",
    ],
)
def test_a_broken_jwks_is_a_401_never_a_500(
    browser: HttpClient, tokens: dict[str, Any], remote_jwks: Any, document: Any
) -> None:
    remote_jwks.document = document

    assert_invalid_token(call_me(browser, tokens["access_token"]))
    assert len(remote_jwks.fetches) == 1


def test_a_jwks_turned_unreadable_ends_trust_in_held_tokens_with_a_401(
    browser: HttpClient, tokens: dict[str, Any], remote_jwks: Any
) -> None:
    assert call_me(browser, tokens["access_token"]).status_code == HTTPStatus.OK
    remote_jwks.document = {"keys": [{"kty": ["RSA"], "kid": "listed"}]}

    with time_machine.travel(time.time() + 301):
        assert_invalid_token(call_me(browser, tokens["access_token"]))
    assert len(remote_jwks.fetches) == 2


def test_a_jwks_larger_than_any_key_set_is_not_read(
    browser: HttpClient, tokens: dict[str, Any], remote_jwks: Any
) -> None:
    remote_jwks.document = {**remote_jwks.document, "padding": "x" * (2 << 20)}

    assert_invalid_token(call_me(browser, tokens["access_token"]))


def test_keys_beside_one_that_cannot_be_understood_are_used(
    browser: HttpClient, tokens: dict[str, Any], remote_jwks: Any
) -> None:
    """RFC 7517 §5: the entry is skipped, not the document."""
    odd = [{"kty": ["RSA"], "kid": "a"}, {"kty": {"RSA": 1}, "kid": "b"}, "RSA", None]
    remote_jwks.document = {"keys": [*odd, *remote_jwks.document["keys"]]}

    assert call_me(browser, tokens["access_token"]).status_code == HTTPStatus.OK


@pytest.mark.parametrize(
    ("cache_control", "seconds"),
    [
        ("public, max-age=300", 300),
        ("max-age=86400", 3600),  # an hour at most: a withdrawn key must not live for a day
        ("max-age=5", 60),  # and a minute at least: the JWKS is not fetched per request
        ("no-cache", 60),
        ("private, no-store", 60),
        ("public", 300),
        (None, 300),
    ],
)
def test_how_long_a_fetched_jwks_is_used(cache_control: str | None, seconds: int) -> None:
    assert jwks.RemoteJWKS("https://issuer.example/jwks").max_age(cache_control) == seconds
