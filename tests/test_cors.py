"""CORS for browser apps (public clients with code + PKCE): the token, revocation and userinfo
endpoints answer only their client's origins; discovery and the JWKS answer anyone; the
authorization endpoint and the pages answer no one."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client as HttpClient

from tests.conftest import Pkce, RegisteredClient, basic_auth

SPA = "https://spa.example"


@pytest.fixture
def spa(make_client: Callable[..., RegisteredClient]) -> RegisteredClient:
    return make_client(
        public=True,
        redirect_uris=[f"{SPA}/callback"],
        allowed_origins=["https://other.spa.example"],
    )


def test_preflight_for_a_registered_origin(browser: HttpClient, spa: RegisteredClient) -> None:
    for path in ("/oauth/token", "/oauth/revoke", "/oauth/userinfo"):
        response = browser.options(path, HTTP_ORIGIN=SPA, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")

        assert response.status_code == HTTPStatus.NO_CONTENT
        assert response["Access-Control-Allow-Origin"] == SPA
        assert "POST" in response["Access-Control-Allow-Methods"]
        assert "Origin" in response["Vary"]


def test_preflight_for_an_unknown_origin_gets_no_permission(
    browser: HttpClient, spa: RegisteredClient
) -> None:
    response = browser.options("/oauth/token", HTTP_ORIGIN="https://evil.example")

    assert "Access-Control-Allow-Origin" not in response


def test_token_responses_are_shared_with_the_clients_origins_only(
    exchange: Callable[..., dict[str, Any]], browser: HttpClient, spa: RegisteredClient
) -> None:
    tokens = exchange(spa, Pkce())

    def refresh(refresh_token: str, origin: str) -> Any:
        body = {"grant_type": "refresh_token", "refresh_token": refresh_token,
                "client_id": spa.client_id}  # fmt: skip
        return browser.post(
            "/oauth/token", urlencode(body), "application/x-www-form-urlencoded",
            HTTP_ORIGIN=origin,
        )  # fmt: skip

    ours = refresh(tokens["refresh_token"], "https://other.spa.example")
    theirs = refresh(ours.json()["refresh_token"], "https://evil.example")

    assert ours["Access-Control-Allow-Origin"] == "https://other.spa.example"
    assert "Access-Control-Allow-Origin" not in theirs


def test_userinfo_is_shared_with_the_tokens_client_origin(
    exchange: Callable[..., dict[str, Any]], browser: HttpClient, spa: RegisteredClient
) -> None:
    tokens = exchange(spa, Pkce())

    response = browser.get(
        "/oauth/userinfo", HTTP_ORIGIN=SPA, HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}"
    )

    assert response.status_code == HTTPStatus.OK
    assert response["Access-Control-Allow-Origin"] == SPA


def test_errors_are_readable_by_every_registered_browser_app(
    exchange: Callable[..., dict[str, Any]], browser: HttpClient, spa: RegisteredClient
) -> None:
    """An app must read a 401 to know its token expired; a token that fails names no client."""
    expired = "Bearer " + exchange(spa, Pkce())["access_token"][:-4] + "AAAA"

    ours = browser.get("/oauth/userinfo", HTTP_ORIGIN=SPA, HTTP_AUTHORIZATION=expired)
    stranger = browser.get(
        "/oauth/userinfo", HTTP_ORIGIN="https://evil.example", HTTP_AUTHORIZATION=expired
    )

    assert ours.status_code == stranger.status_code == HTTPStatus.UNAUTHORIZED
    assert ours["Access-Control-Allow-Origin"] == SPA
    assert "WWW-Authenticate" in ours["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Origin" not in stranger


def test_confidential_clients_get_no_cors(
    make_client: Callable[..., RegisteredClient], browser: HttpClient
) -> None:
    client = make_client(redirect_uris=["https://server-side.example/cb"])

    preflight = browser.options("/oauth/token", HTTP_ORIGIN="https://server-side.example")
    # A form POST needs no preflight: the response itself must not be shared either.
    simple = browser.post(
        "/oauth/token", "grant_type=refresh_token&refresh_token=x",
        "application/x-www-form-urlencoded", HTTP_ORIGIN="https://server-side.example",
        HTTP_AUTHORIZATION=basic_auth(client.client_id, client.secret or ""),
    )  # fmt: skip

    assert "Access-Control-Allow-Origin" not in preflight
    assert "Access-Control-Allow-Origin" not in simple


def test_discovery_and_jwks_are_public(browser: HttpClient, db: None) -> None:
    for path in ("/.well-known/openid-configuration", "/oauth/jwks"):
        assert browser.get(path, HTTP_ORIGIN=SPA)["Access-Control-Allow-Origin"] == "*"


def test_the_authorization_endpoint_and_pages_answer_no_cors(
    signed_in: HttpClient, spa: RegisteredClient
) -> None:
    from tests.conftest import authorize_url

    for path in (authorize_url(spa, Pkce()), "/accounts/login/", "/accounts/apps/"):
        response = signed_in.get(path, HTTP_ORIGIN=SPA)
        assert "Access-Control-Allow-Origin" not in response
    assert signed_in.options("/oauth/authorize", HTTP_ORIGIN=SPA).status_code == 405


def test_origins_must_be_bare_https_origins(make_client: Callable[..., RegisteredClient]) -> None:
    from django.core.exceptions import ValidationError

    from oauth.models import validate_origins

    malformed = (["https://[::1"], ["https://spa.example:99999"], ["https://spa.example:x"])
    for bad in (["https://spa.example/path"], ["http://spa.example"], ["*"], ["spa.example"],
                *malformed):  # fmt: skip
        with pytest.raises(ValidationError):
            validate_origins(bad)
    validate_origins(["https://spa.example", "http://localhost:3000"])


def test_allowed_responses_expose_the_headers_apps_need(
    browser: HttpClient, spa: RegisteredClient
) -> None:
    response = browser.get("/oauth/userinfo", HTTP_ORIGIN=SPA, HTTP_AUTHORIZATION="Bearer x")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert "WWW-Authenticate" in response["Access-Control-Expose-Headers"]
    preflight = browser.options("/oauth/userinfo", HTTP_ORIGIN=SPA)
    assert "WWW-Authenticate" in preflight["Access-Control-Expose-Headers"]


def test_origins_are_compared_as_browsers_send_them() -> None:
    from oauth.models import origin_of

    assert origin_of("https://App.Example:443/callback") == "https://app.example"
    assert origin_of("http://127.0.0.1:8080/cb") == "http://127.0.0.1:8080"
    assert origin_of("https://user:pw@app.example/cb") == "https://app.example"
    assert origin_of("https://[::1]:8443/") == "https://[::1]:8443"
