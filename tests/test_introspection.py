"""Token introspection, RFC 7662: client-authenticated, strict (a revoked grant is inactive)."""

from __future__ import annotations

import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

import pytest
import time_machine
from django.conf import settings
from django.test import Client as HttpClient

from accounts.models import User
from oauth.models import Grant
from oauth.services import grant_revoke
from tests.conftest import RegisteredClient, basic_auth


@pytest.fixture
def introspect(browser: HttpClient) -> Callable[..., Any]:
    def post(client: RegisteredClient, token: str, **data: str) -> Any:
        return browser.post(
            "/oauth/introspect",
            urlencode({"token": token, **data}),
            "application/x-www-form-urlencoded",
            HTTP_AUTHORIZATION=basic_auth(client.client_id, client.secret or ""),
        )

    return post


def test_active_access_token(
    exchange: Callable[..., dict[str, Any]],
    introspect: Callable[..., Any],
    confidential_client: RegisteredClient,
    user: User,
) -> None:
    tokens = exchange(confidential_client)

    response = introspect(confidential_client, tokens["access_token"])

    assert response.status_code == HTTPStatus.OK
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["active"] is True
    assert body["client_id"] == confidential_client.client_id
    assert body["sub"] == str(user.pk)
    assert body["username"] == "alice"
    assert body["scope"] == "openid profile email"
    assert body["token_type"] == "Bearer"
    assert body["iss"] == settings.ISSUER
    assert body["aud"] == settings.ACCESS_TOKEN_AUDIENCE
    assert body["exp"] > body["iat"]


def test_active_refresh_token(
    exchange: Callable[..., dict[str, Any]],
    introspect: Callable[..., Any],
    confidential_client: RegisteredClient,
) -> None:
    tokens = exchange(confidential_client)

    body = introspect(
        confidential_client, tokens["refresh_token"], token_type_hint="refresh_token"
    ).json()

    assert body["active"] is True
    assert body["scope"] == "openid profile email"


@pytest.mark.parametrize("hint", ["id_token", "urn:ietf:params:oauth:token-type:jwt", ""])
def test_a_hint_this_server_does_not_know_is_ignored(
    exchange: Callable[..., dict[str, Any]],
    introspect: Callable[..., Any],
    confidential_client: RegisteredClient,
    hint: str,
) -> None:
    """RFC 7662 §2.1: the token is looked up as every type the server knows."""
    tokens = exchange(confidential_client)

    for kind in ("access_token", "refresh_token"):
        response = introspect(confidential_client, tokens[kind], token_type_hint=hint)
        assert response.status_code == HTTPStatus.OK
        assert response.json()["active"] is True


def test_tokens_of_a_revoked_grant_are_inactive(
    exchange: Callable[..., dict[str, Any]],
    introspect: Callable[..., Any],
    confidential_client: RegisteredClient,
) -> None:
    tokens = exchange(confidential_client)
    grant_revoke(grant_id=Grant.objects.get().pk)

    for token in (tokens["access_token"], tokens["refresh_token"]):
        assert introspect(confidential_client, token).json() == {"active": False}


def test_expired_access_token_is_inactive(
    exchange: Callable[..., dict[str, Any]],
    introspect: Callable[..., Any],
    confidential_client: RegisteredClient,
) -> None:
    tokens = exchange(confidential_client)

    with time_machine.travel(time.time() + settings.ACCESS_TOKEN_LIFETIME + 1):
        expired = introspect(confidential_client, tokens["access_token"]).json()
    with time_machine.travel(time.time() + settings.ACCESS_TOKEN_LIFETIME - 5):
        still_valid = introspect(confidential_client, tokens["access_token"]).json()

    assert expired == {"active": False}
    assert still_valid["active"] is True


def test_used_refresh_token_is_inactive(
    exchange: Callable[..., dict[str, Any]],
    introspect: Callable[..., Any],
    token_request: Callable[..., Any],
    confidential_client: RegisteredClient,
) -> None:
    tokens = exchange(confidential_client)
    token_request(
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(confidential_client.client_id, confidential_client.secret),
    )

    assert introspect(confidential_client, tokens["refresh_token"]).json() == {"active": False}


@pytest.mark.parametrize("token", ["never-issued", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", ""])
def test_unknown_tokens_are_inactive(
    introspect: Callable[..., Any], confidential_client: RegisteredClient, token: str
) -> None:
    response = introspect(confidential_client, token)

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"active": False}


def test_a_client_sees_only_its_own_tokens_unless_it_is_a_resource_server(
    exchange: Callable[..., dict[str, Any]],
    introspect: Callable[..., Any],
    make_client: Callable[..., RegisteredClient],
) -> None:
    owner, other, resource_server = make_client(), make_client(), make_client()
    resource_server.change(introspect_any_token=True)
    tokens = exchange(owner)

    assert introspect(other, tokens["access_token"]).json() == {"active": False}
    assert introspect(resource_server, tokens["access_token"]).json()["active"] is True


def test_introspection_requires_a_confidential_client(
    exchange: Callable[..., dict[str, Any]],
    browser: HttpClient,
    public_client: RegisteredClient,
    pkce: Any,
) -> None:
    tokens = exchange(public_client, pkce)

    response = browser.post(
        "/oauth/introspect",
        urlencode({"token": tokens["access_token"], "client_id": public_client.client_id}),
        "application/x-www-form-urlencoded",
    )

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"] == "invalid_client"


def test_tokens_of_a_disabled_person_are_inactive(
    exchange: Callable[..., dict[str, Any]],
    introspect: Callable[..., Any],
    confidential_client: RegisteredClient,
    user: User,
) -> None:
    tokens = exchange(confidential_client)
    User.objects.filter(pk=user.pk).update(is_active=False)

    for token in (tokens["access_token"], tokens["refresh_token"]):
        assert introspect(confidential_client, token).json() == {"active": False}


def test_disabled_clients_tokens_are_inactive(
    exchange: Callable[..., dict[str, Any]],
    introspect: Callable[..., Any],
    make_client: Callable[..., RegisteredClient],
) -> None:
    app, resource_server = make_client(), make_client(introspect_any_token=True)
    tokens = exchange(app)
    app.change(is_active=False)

    for token in (tokens["access_token"], tokens["refresh_token"]):
        assert introspect(resource_server, token).json() == {"active": False}


@pytest.mark.parametrize(("scope", "told"), [("openid", False), ("openid profile", True)])
def test_the_username_is_told_only_under_the_profile_scope(
    exchange: Callable[..., dict[str, Any]],
    introspect: Callable[..., Any],
    confidential_client: RegisteredClient,
    scope: str,
    told: bool,
) -> None:
    """A client allowed only openid would learn the username (often the email's local part)."""
    tokens = exchange(confidential_client, scope=scope)

    for token in (tokens["access_token"], tokens["refresh_token"]):
        body = introspect(confidential_client, token).json()
        assert body["active"] is True and body["scope"] == scope
        assert ("username" in body) is told
