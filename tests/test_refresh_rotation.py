"""Refresh tokens: RFC 6749 §6, rotated on every use with reuse detection (RFC 9700 §4.14.2),
idle and absolute expiry, and exactly one winner when two refreshes race."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from http import HTTPStatus
from typing import Any

import jwt
import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from oauth.models import Grant, RefreshToken
from tests.conftest import HttpsClient, RegisteredClient


@pytest.fixture
def refresh(token_request: Callable[..., Any]) -> Callable[..., Any]:
    def post(client: RegisteredClient, refresh_token: str, **extra: str) -> Any:
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token, **extra}
        if client.secret is None:
            return token_request({**data, "client_id": client.client_id})
        return token_request(data, auth=(client.client_id, client.secret))

    return post


def test_refresh_returns_new_tokens_and_rotates_the_refresh_token(
    exchange: Callable[..., dict[str, Any]],
    refresh: Callable[..., Any],
    confidential_client: RegisteredClient,
) -> None:
    first = exchange(confidential_client)

    response = refresh(confidential_client, first["refresh_token"])

    assert response.status_code == HTTPStatus.OK
    assert response["Cache-Control"] == "no-store"
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert second["scope"] == "openid profile email"
    old, new = RefreshToken.objects.order_by("created_at")
    assert old.used_at is not None and new.used_at is None
    claims = [
        jwt.decode(t["access_token"], options={"verify_signature": False}) for t in (first, second)
    ]
    assert claims[0]["grant_id"] == claims[1]["grant_id"]


def test_public_client_refreshes_without_a_secret(
    exchange: Callable[..., dict[str, Any]],
    refresh: Callable[..., Any],
    public_client: RegisteredClient,
    pkce: Any,
) -> None:
    tokens = exchange(public_client, pkce)

    assert refresh(public_client, tokens["refresh_token"]).status_code == HTTPStatus.OK


def test_reused_refresh_token_revokes_the_whole_grant(
    exchange: Callable[..., dict[str, Any]],
    refresh: Callable[..., Any],
    confidential_client: RegisteredClient,
) -> None:
    first = exchange(confidential_client)
    second = refresh(confidential_client, first["refresh_token"]).json()

    # After the grace: within it, the same token is answered as a retry (test_refresh_retry.py).
    past_the_grace = timezone.now() + timedelta(seconds=settings.REFRESH_RETRY_GRACE)
    with time_machine.travel(past_the_grace):
        reuse = refresh(confidential_client, first["refresh_token"])
        after = refresh(confidential_client, second["refresh_token"])

    assert reuse.status_code == HTTPStatus.BAD_REQUEST
    assert reuse.json()["error"] == "invalid_grant"
    assert after.json()["error"] == "invalid_grant"
    assert Grant.objects.get().revoked_at is not None


def test_refresh_may_narrow_but_not_widen_the_scope(
    exchange: Callable[..., dict[str, Any]],
    refresh: Callable[..., Any],
    make_client: Callable[..., RegisteredClient],
) -> None:
    client = make_client()
    tokens = exchange(client, scope="openid profile")

    wider = refresh(client, tokens["refresh_token"], scope="openid email")
    narrower = refresh(client, tokens["refresh_token"], scope="openid")

    assert wider.json()["error"] == "invalid_scope"
    assert narrower.json()["scope"] == "openid"
    # The grant keeps its scope; a later refresh can return to it.
    again = refresh(client, narrower.json()["refresh_token"])
    assert again.json()["scope"] == "openid profile"


@pytest.mark.parametrize("blank", [" ", "\t", "   "])
def test_a_blank_scope_on_refresh_is_the_grants_scope_not_the_clients(
    exchange: Callable[..., dict[str, Any]],
    refresh: Callable[..., Any],
    make_client: Callable[..., RegisteredClient],
    blank: str,
) -> None:
    client = make_client()  # allowed openid, profile and email
    tokens = exchange(client, scope="openid")

    response = refresh(client, tokens["refresh_token"], scope=blank)

    assert response.json()["scope"] == "openid"
    claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
    assert claims["scope"] == "openid"
    assert "email" not in claims and "name" not in claims


def test_refresh_token_of_another_client_is_invalid_grant(
    exchange: Callable[..., dict[str, Any]],
    refresh: Callable[..., Any],
    make_client: Callable[..., RegisteredClient],
) -> None:
    owner, thief = make_client(), make_client()
    tokens = exchange(owner)

    response = refresh(thief, tokens["refresh_token"])

    assert response.json()["error"] == "invalid_grant"
    assert RefreshToken.objects.get().used_at is None


def test_unknown_or_missing_refresh_token(
    refresh: Callable[..., Any],
    token_request: Callable[..., Any],
    confidential_client: RegisteredClient,
) -> None:
    unknown = refresh(confidential_client, "never-issued")
    missing = token_request(
        {"grant_type": "refresh_token"},
        auth=(confidential_client.client_id, confidential_client.secret),
    )

    assert unknown.json()["error"] == "invalid_grant"
    assert missing.json()["error"] == "invalid_request"


def test_disabled_client_cannot_refresh(
    exchange: Callable[..., dict[str, Any]],
    refresh: Callable[..., Any],
    confidential_client: RegisteredClient,
) -> None:
    tokens = exchange(confidential_client)
    confidential_client.change(is_active=False)

    response = refresh(confidential_client, tokens["refresh_token"])

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"] == "invalid_client"
    assert RefreshToken.objects.get().used_at is None


def test_deactivated_user_cannot_refresh(
    exchange: Callable[..., dict[str, Any]],
    refresh: Callable[..., Any],
    confidential_client: RegisteredClient,
    user: Any,
) -> None:
    tokens = exchange(confidential_client)
    user.is_active = False
    user.save()

    assert refresh(confidential_client, tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_refresh_token_expires_when_idle(
    browser: HttpsClient,
    user: Any,
    refresh: Callable[..., Any],
    exchange: Callable[..., dict[str, Any]],
    make_client: Callable[..., RegisteredClient],
) -> None:
    client = make_client(first_party=True)
    idle = settings.REFRESH_TOKEN_IDLE_LIFETIME
    with time_machine.travel("2030-01-01 00:00:00", tick=False) as clock:
        browser.force_login(user)  # a session of this time
        tokens = exchange(client)
        clock.shift(idle - 60)
        tokens = refresh(client, tokens["refresh_token"]).json()  # used in time: still good
        clock.shift(idle - 60)
        in_time = refresh(client, tokens["refresh_token"])
        clock.shift(idle + 1)
        too_late = refresh(client, in_time.json()["refresh_token"])

    assert in_time.status_code == HTTPStatus.OK
    assert too_late.json()["error"] == "invalid_grant"


def test_grant_ends_at_its_absolute_lifetime_however_often_refreshed(
    browser: HttpsClient,
    user: Any,
    refresh: Callable[..., Any],
    exchange: Callable[..., dict[str, Any]],
    make_client: Callable[..., RegisteredClient],
) -> None:
    client = make_client(first_party=True)
    step = settings.REFRESH_TOKEN_IDLE_LIFETIME // 2
    with time_machine.travel("2030-01-01 00:00:00", tick=False) as clock:
        browser.force_login(user)  # a session of this time
        tokens = exchange(client)
        elapsed = 0
        while elapsed + step < settings.REFRESH_TOKEN_ABSOLUTE_LIFETIME:
            clock.shift(step)
            elapsed += step
            response = refresh(client, tokens["refresh_token"])
            assert response.status_code == HTTPStatus.OK
            tokens = response.json()
        clock.shift(settings.REFRESH_TOKEN_ABSOLUTE_LIFETIME - elapsed + 1)
        final = refresh(client, tokens["refresh_token"])

    assert final.json()["error"] == "invalid_grant"
    # No refresh token says it lives past its grant (introspection shows its expiry).
    grant = Grant.objects.get()
    assert RefreshToken.objects.filter(grant=grant).count() > 1
    assert not RefreshToken.objects.filter(grant=grant, expires_at__gt=grant.expires_at).exists()
