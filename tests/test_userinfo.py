"""The UserInfo endpoint, OpenID Connect Core §5.3, with bearer tokens (RFC 6750)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from http import HTTPStatus
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.test import Client as HttpClient
from django.utils import timezone

from accounts.models import User
from oauth.models import Grant
from oauth.services import grant_revoke
from tests.conftest import RegisteredClient


def test_userinfo_returns_the_claims_of_the_tokens_scopes(
    exchange: Callable[..., dict[str, Any]],
    browser: HttpClient,
    confidential_client: RegisteredClient,
    user: User,
) -> None:
    tokens = exchange(confidential_client, scope="openid email")

    response = browser.get("/oauth/userinfo", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {
        "sub": str(user.pk),
        "email": "alice@example.com",
        "email_verified": True,
    }
    assert response["Cache-Control"] == "no-store"


def test_userinfo_accepts_post(
    exchange: Callable[..., dict[str, Any]],
    browser: HttpClient,
    confidential_client: RegisteredClient,
) -> None:
    tokens = exchange(confidential_client)

    response = browser.post(
        "/oauth/userinfo", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}"
    )

    assert response.json()["name"] == "Alice Example"


def test_token_without_openid_scope_is_insufficient(
    exchange: Callable[..., dict[str, Any]],
    browser: HttpClient,
    confidential_client: RegisteredClient,
) -> None:
    tokens = exchange(confidential_client, scope="profile")

    response = browser.get("/oauth/userinfo", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json()["error"] == "insufficient_scope"
    assert response["WWW-Authenticate"] == 'Bearer error="insufficient_scope", scope="openid"'
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer not-a-jwt",
        "Bearer a.b.c",
        "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
    ],
)
def test_missing_or_bad_token_is_401_invalid_token(
    browser: HttpClient, db: None, header: str | None
) -> None:
    headers = {} if header is None else {"HTTP_AUTHORIZATION": header}

    response = browser.get("/oauth/userinfo", **headers)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
    assert response["WWW-Authenticate"].startswith("Bearer ")


def test_id_token_is_not_an_access_token(
    exchange: Callable[..., dict[str, Any]],
    browser: HttpClient,
    confidential_client: RegisteredClient,
) -> None:
    tokens = exchange(confidential_client)

    response = browser.get("/oauth/userinfo", HTTP_AUTHORIZATION=f"Bearer {tokens['id_token']}")

    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_revoked_grant_is_refused(
    exchange: Callable[..., dict[str, Any]],
    browser: HttpClient,
    confidential_client: RegisteredClient,
) -> None:
    tokens = exchange(confidential_client)
    grant_revoke(grant_id=Grant.objects.get().pk)

    response = browser.get("/oauth/userinfo", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")

    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_a_grant_past_its_absolute_end_is_refused(
    exchange: Callable[..., dict[str, Any]],
    browser: HttpClient,
    confidential_client: RegisteredClient,
) -> None:
    """The access token may outlive its grant's end by minutes; the grant's end wins."""
    tokens = exchange(confidential_client)
    Grant.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = browser.get("/oauth/userinfo", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"] == "invalid_token"


def test_expired_access_token_is_refused(
    exchange: Callable[..., dict[str, Any]],
    browser: HttpClient,
    confidential_client: RegisteredClient,
) -> None:
    tokens = exchange(confidential_client)
    header = f"Bearer {tokens['access_token']}"

    with time_machine.travel(time.time() + settings.ACCESS_TOKEN_LIFETIME - 5):
        in_time = browser.get("/oauth/userinfo", HTTP_AUTHORIZATION=header)
    with time_machine.travel(time.time() + settings.ACCESS_TOKEN_LIFETIME + 1):
        expired = browser.get("/oauth/userinfo", HTTP_AUTHORIZATION=header)

    assert in_time.status_code == HTTPStatus.OK
    assert expired.status_code == HTTPStatus.UNAUTHORIZED
    assert 'error="invalid_token"' in expired["WWW-Authenticate"]


def test_disabled_clients_tokens_are_refused(
    exchange: Callable[..., dict[str, Any]],
    browser: HttpClient,
    confidential_client: RegisteredClient,
) -> None:
    tokens = exchange(confidential_client)
    confidential_client.change(is_active=False)

    response = browser.get("/oauth/userinfo", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
