"""Token revocation, RFC 7009: revoking either token of a grant revokes the grant (§2.1)."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client as HttpClient

from oauth.models import Grant
from tests.conftest import RegisteredClient, basic_auth


@pytest.fixture
def revoke(browser: HttpClient) -> Callable[..., Any]:
    def post(client: RegisteredClient, **data: str) -> Any:
        headers = {}
        if client.secret is None:
            data["client_id"] = client.client_id
        else:
            headers["HTTP_AUTHORIZATION"] = basic_auth(client.client_id, client.secret)
        return browser.post(
            "/oauth/revoke", urlencode(data), "application/x-www-form-urlencoded", **headers
        )

    return post


@pytest.mark.parametrize(
    ("kind", "hint"),
    [
        ("refresh_token", "refresh_token"),
        ("refresh_token", None),
        ("access_token", "access_token"),
        ("access_token", None),
        ("access_token", "refresh_token"),  # a wrong hint is only a hint
    ],
)
def test_revoking_a_token_revokes_its_grant(
    exchange: Callable[..., dict[str, Any]],
    revoke: Callable[..., Any],
    token_request: Callable[..., Any],
    confidential_client: RegisteredClient,
    kind: str,
    hint: str | None,
) -> None:
    tokens = exchange(confidential_client)
    data = {"token": tokens[kind]}
    if hint:
        data["token_type_hint"] = hint

    response = revoke(confidential_client, **data)

    assert response.status_code == HTTPStatus.OK
    assert Grant.objects.get().revoked_at is not None
    refresh = token_request(
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(confidential_client.client_id, confidential_client.secret),
    )
    assert refresh.json()["error"] == "invalid_grant"


def test_public_client_revokes_with_its_client_id(
    exchange: Callable[..., dict[str, Any]],
    revoke: Callable[..., Any],
    public_client: RegisteredClient,
    pkce: Any,
) -> None:
    tokens = exchange(public_client, pkce)

    assert revoke(public_client, token=tokens["refresh_token"]).status_code == HTTPStatus.OK
    assert Grant.objects.get().revoked_at is not None


def test_unknown_token_is_answered_200_and_changes_nothing(
    revoke: Callable[..., Any], confidential_client: RegisteredClient
) -> None:
    """RFC 7009 §2.2: invalid tokens do not cause an error."""
    for token in ("never-issued", "a.b.c", "eyJhbGciOiJub25lIn0.e30."):
        assert revoke(confidential_client, token=token).status_code == HTTPStatus.OK


def test_another_clients_token_is_not_revoked(
    exchange: Callable[..., dict[str, Any]],
    revoke: Callable[..., Any],
    make_client: Callable[..., RegisteredClient],
) -> None:
    owner, other = make_client(), make_client()
    tokens = exchange(owner)

    response = revoke(other, token=tokens["refresh_token"])

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert Grant.objects.get().revoked_at is None


def test_revocation_needs_client_authentication(
    exchange: Callable[..., dict[str, Any]],
    browser: HttpClient,
    confidential_client: RegisteredClient,
) -> None:
    tokens = exchange(confidential_client)

    response = browser.post(
        "/oauth/revoke",
        urlencode({"token": tokens["refresh_token"]}),
        "application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic_auth(confidential_client.client_id, "wrong"),
    )

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"] == "invalid_client"
    assert Grant.objects.get().revoked_at is None


def test_missing_token_and_unknown_hint(
    exchange: Callable[..., dict[str, Any]],
    revoke: Callable[..., Any],
    confidential_client: RegisteredClient,
) -> None:
    """A hint is only a hint (RFC 7009 §2.1): one this server does not know is ignored."""
    assert revoke(confidential_client).json()["error"] == "invalid_request"
    tokens = exchange(confidential_client)

    unknown = revoke(confidential_client, token="x", token_type_hint="id_token")
    revoked = revoke(
        confidential_client,
        token=tokens["access_token"],
        token_type_hint="urn:ietf:params:oauth:token-type:jwt",
    )

    assert unknown.status_code == revoked.status_code == HTTPStatus.OK
    assert Grant.objects.get().revoked_at is not None
