"""The token endpoint's contract: client authentication (RFC 6749 §2.3, §3.2.1) and every error of
§5.2 with its status, `Cache-Control: no-store`, and no row changed by a refused request."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http import HTTPStatus
from typing import Any

import pytest
from django.conf import settings
from django.test import Client as HttpClient

from oauth.models import AuthorizationCode, Client, Consent, Grant, RefreshToken
from tests.conftest import Pkce, RegisteredClient, basic_auth

MODELS = (AuthorizationCode, Grant, RefreshToken, Consent, Client)


@contextmanager
def nothing_changes() -> Iterator[None]:
    def snapshot() -> list[list[dict[str, Any]]]:
        return [list(model.objects.order_by("pk").values()) for model in MODELS]

    before = snapshot()
    yield
    assert snapshot() == before


def test_client_secret_basic(
    code_for: Callable[..., dict[str, str]],
    token_request: Callable[..., Any],
    confidential_client: RegisteredClient,
) -> None:
    response = token_request(
        code_for(confidential_client),
        auth=(confidential_client.client_id, confidential_client.secret),
    )

    assert response.status_code == HTTPStatus.OK


def test_client_secret_post(
    code_for: Callable[..., dict[str, str]],
    token_request: Callable[..., Any],
    confidential_client: RegisteredClient,
) -> None:
    data = code_for(confidential_client)
    data.update(client_id=confidential_client.client_id, client_secret=confidential_client.secret)

    assert token_request(data).status_code == HTTPStatus.OK


def test_confidential_client_cannot_skip_authentication(
    code_for: Callable[..., dict[str, str]],
    token_request: Callable[..., Any],
    confidential_client: RegisteredClient,
) -> None:
    data = {**code_for(confidential_client), "client_id": confidential_client.client_id}

    with nothing_changes():
        response = token_request(data)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    "credentials",
    [("right-id", "wrong secret"), ("no-such-client", "whatever"), ("right-id", "")],
    ids=["wrong-secret", "unknown-client", "empty-secret"],
)
def test_failed_basic_authentication_is_401_with_www_authenticate(
    code_for: Callable[..., dict[str, str]],
    token_request: Callable[..., Any],
    confidential_client: RegisteredClient,
    credentials: tuple[str, str],
) -> None:
    client_id, secret = credentials
    client_id = confidential_client.client_id if client_id == "right-id" else client_id
    data = code_for(confidential_client)

    with nothing_changes():
        response = token_request(data, auth=(client_id, secret))

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    # The same words whatever failed: nothing about which clients exist or how they sign in.
    assert response.json() == {
        "error": "invalid_client",
        "error_description": "Client authentication failed.",
    }
    assert response["WWW-Authenticate"] == f'Basic realm="{settings.ISSUER}", charset="UTF-8"'
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("client_id", ["right-id", "no-such-client"])
def test_failed_authentication_in_the_body_does_not_tell_whether_the_client_exists(
    code_for: Callable[..., dict[str, str]],
    token_request: Callable[..., Any],
    confidential_client: RegisteredClient,
    client_id: str,
) -> None:
    data = code_for(confidential_client)
    client_id = confidential_client.client_id if client_id == "right-id" else client_id
    data.update(client_id=client_id, client_secret="nope")

    with nothing_changes():
        response = token_request(data)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {
        "error": "invalid_client",
        "error_description": "Client authentication failed.",
    }


@pytest.mark.parametrize(
    "header",
    [
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(b"\xff\xfe:\xfa").decode(),
        "Basic ",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic " + base64.b64encode(b"a\x00:b").decode(),
    ],
    ids=["not-base64", "not-utf8", "empty", "no-colon", "nul"],
)
def test_malformed_basic_header_is_401_invalid_client(
    code_for: Callable[..., dict[str, str]],
    browser: HttpClient,
    confidential_client: RegisteredClient,
    header: str,
) -> None:
    from urllib.parse import urlencode

    data = code_for(confidential_client)
    with nothing_changes():
        response = browser.post(
            "/oauth/token",
            urlencode(data),
            "application/x-www-form-urlencoded",
            HTTP_AUTHORIZATION=header,
        )

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"] == "invalid_client"


def test_two_authentication_methods_at_once_are_refused(
    code_for: Callable[..., dict[str, str]],
    token_request: Callable[..., Any],
    confidential_client: RegisteredClient,
) -> None:
    data = {**code_for(confidential_client), "client_secret": confidential_client.secret}

    with nothing_changes():
        response = token_request(
            data, auth=(confidential_client.client_id, confidential_client.secret)
        )

    assert response.json()["error"] == "invalid_request"


def test_a_body_naming_another_client_than_the_credentials_is_refused(
    code_for: Callable[..., dict[str, str]],
    token_request: Callable[..., Any],
    confidential_client: RegisteredClient,
    public_client: RegisteredClient,
) -> None:
    data = {**code_for(confidential_client), "client_id": public_client.client_id}

    with nothing_changes():
        response = token_request(
            data, auth=(confidential_client.client_id, confidential_client.secret)
        )

    assert response.json()["error"] == "invalid_request"


def test_public_client_with_a_secret_is_refused(
    code_for: Callable[..., dict[str, str]],
    token_request: Callable[..., Any],
    public_client: RegisteredClient,
    pkce: Pkce,
) -> None:
    data = code_for(public_client, pkce)
    data.update(
        client_id=public_client.client_id, client_secret="made-up", code_verifier=pkce.verifier
    )

    with nothing_changes():
        response = token_request(data)

    assert response.json()["error"] == "invalid_client"


def test_disabled_client_cannot_exchange_its_code(
    code_for: Callable[..., dict[str, str]],
    token_request: Callable[..., Any],
    confidential_client: RegisteredClient,
) -> None:
    data = code_for(confidential_client)
    confidential_client.change(is_active=False)

    with nothing_changes():
        response = token_request(
            data, auth=(confidential_client.client_id, confidential_client.secret)
        )

    assert response.json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"grant_type": None}, "invalid_request"),
        ({"grant_type": "client_credentials"}, "unsupported_grant_type"),
        ({"code": None}, "invalid_request"),
        ({"code": "made-up-code"}, "invalid_grant"),
    ],
)
def test_token_request_errors(
    code_for: Callable[..., dict[str, str]],
    token_request: Callable[..., Any],
    confidential_client: RegisteredClient,
    change: dict[str, str | None],
    error: str,
) -> None:
    data = {**code_for(confidential_client), **change}
    data = {key: value for key, value in data.items() if value is not None}

    with nothing_changes():
        response = token_request(
            data, auth=(confidential_client.client_id, confidential_client.secret)
        )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == error
    description = response.json().get("error_description", "")
    assert not any(value and value in description for value in change.values())  # no echo
    assert response["Cache-Control"] == "no-store"
    assert response["Content-Type"] == "application/json"


def test_client_not_allowed_the_grant_type_is_unauthorized_client(
    code_for: Callable[..., dict[str, str]],
    token_request: Callable[..., Any],
    make_client: Callable[..., RegisteredClient],
) -> None:
    client = make_client()
    data = code_for(client)
    client.change(grant_types=["refresh_token"])

    with nothing_changes():
        response = token_request(data, auth=(client.client_id, client.secret))

    assert response.json()["error"] == "unauthorized_client"


def test_client_without_refresh_grant_gets_no_refresh_token(
    code_for: Callable[..., dict[str, str]],
    token_request: Callable[..., Any],
    make_client: Callable[..., RegisteredClient],
) -> None:
    client = make_client(grant_types=["authorization_code"])

    body = token_request(code_for(client), auth=(client.client_id, client.secret)).json()

    assert "refresh_token" not in body
    assert not RefreshToken.objects.exists()


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", '{"grant_type": "authorization_code"}'),
        ("multipart/form-data; boundary=x", "--x--"),
        ("text/plain", "grant_type=authorization_code"),
    ],
)
def test_wrong_content_type_is_invalid_request(
    browser: HttpClient, confidential_client: RegisteredClient, content_type: str, body: str
) -> None:
    with nothing_changes():
        response = browser.post(
            "/oauth/token",
            body,
            content_type,
            HTTP_AUTHORIZATION=basic_auth(
                confidential_client.client_id, confidential_client.secret
            ),
        )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == "invalid_request"


def test_parameters_in_the_url_are_refused(
    browser: HttpClient, confidential_client: RegisteredClient
) -> None:
    response = browser.post(
        "/oauth/token?grant_type=authorization_code&code=x",
        "",
        "application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic_auth(confidential_client.client_id, confidential_client.secret),
    )

    assert response.json()["error"] == "invalid_request"


def test_repeated_parameters_are_invalid_request(
    code_for: Callable[..., dict[str, str]],
    browser: HttpClient,
    confidential_client: RegisteredClient,
) -> None:
    from urllib.parse import urlencode

    data = code_for(confidential_client)
    body = urlencode(data) + "&code=another"

    with nothing_changes():
        response = browser.post(
            "/oauth/token",
            body,
            "application/x-www-form-urlencoded",
            HTTP_AUTHORIZATION=basic_auth(
                confidential_client.client_id, confidential_client.secret
            ),
        )

    assert response.json()["error"] == "invalid_request"


def test_get_is_not_allowed(browser: HttpClient) -> None:
    response = browser.get("/oauth/token")

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response.json()["error"] == "invalid_request"
    assert response["Allow"] == "POST"


def test_oversized_bodies_get_the_json_error(browser: HttpClient, db: None) -> None:
    fields = "&".join(f"f{index}=x" for index in range(2000))

    response = browser.post("/oauth/token", fields, "application/x-www-form-urlencoded")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == "invalid_request"
    assert response["Cache-Control"] == "no-store"


def test_nul_in_a_percent_encoded_client_id_is_invalid_client(
    browser: HttpClient, db: None
) -> None:
    response = browser.post(
        "/oauth/token",
        "grant_type=refresh_token&refresh_token=x",
        "application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic_auth("ab%00cd", "secret"),
    )

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"] == "invalid_client"
