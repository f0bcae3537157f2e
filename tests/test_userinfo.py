"""The UserInfo endpoint, OpenID Connect Core §5.3, with bearer tokens (RFC 6750)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

import jwt
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


def test_userinfo_takes_the_token_from_a_form_encoded_body(
    exchange: Callable[..., dict[str, Any]],
    browser: HttpClient,
    confidential_client: RegisteredClient,
    user: User,
) -> None:
    """RFC 6750 §2.2 (OpenID's oidcc-userinfo-post-body)."""
    tokens = exchange(confidential_client)

    response = browser.post(
        "/oauth/userinfo",
        urlencode({"access_token": tokens["access_token"]}),
        "application/x-www-form-urlencoded",
    )

    assert response.status_code == HTTPStatus.OK
    assert response.json()["sub"] == str(user.pk)


@pytest.mark.parametrize(
    ("body", "header", "status"),
    [
        ("both", True, HTTPStatus.BAD_REQUEST),  # RFC 6750 §2: one way only
        ("garbage", False, HTTPStatus.UNAUTHORIZED),
        ("twice", False, HTTPStatus.BAD_REQUEST),
    ],
)
def test_a_token_in_the_body_is_held_to_the_same_rules(
    exchange: Callable[..., dict[str, Any]],
    browser: HttpClient,
    confidential_client: RegisteredClient,
    body: str,
    header: bool,
    status: HTTPStatus,
) -> None:
    token = exchange(confidential_client)["access_token"]
    form = {
        "both": urlencode({"access_token": token}),
        "garbage": urlencode({"access_token": "not.a.token"}),
        "twice": urlencode([("access_token", token), ("access_token", token)]),
    }[body]
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if header else {}

    response = browser.post("/oauth/userinfo", form, "application/x-www-form-urlencoded", **headers)

    assert response.status_code == status
    assert response["Cache-Control"] == "no-store"


def test_the_id_token_says_who_and_userinfo_says_the_rest(
    exchange: Callable[..., dict[str, Any]],
    browser: HttpClient,
    confidential_client: RegisteredClient,
    user: User,
) -> None:
    """OIDC Core §5.4: with an access token issued, the profile and email scopes' claims come
    from UserInfo, not the id_token."""
    tokens = exchange(confidential_client, scope="openid profile email")

    id_token = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    answer = browser.get(
        "/oauth/userinfo", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}"
    ).json()

    assert id_token["sub"] == str(user.pk)
    assert not {"name", "email", "preferred_username", "updated_at"} & set(id_token)
    assert answer["email"] == "alice@example.com" and answer["name"] == "Alice Example"


def test_the_profile_scope_tells_the_picture_and_when_it_changed(
    exchange: Callable[..., dict[str, Any]],
    browser: HttpClient,
    confidential_client: RegisteredClient,
    user: User,
) -> None:
    User.objects.filter(pk=user.pk).update(picture="https://cdn.example/jane.png")
    user.refresh_from_db()
    tokens = exchange(confidential_client, scope="openid profile")

    answer = browser.get(
        "/oauth/userinfo", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}"
    ).json()

    assert answer["picture"] == "https://cdn.example/jane.png"
    assert answer["updated_at"] == int(user.updated_at.timestamp())
