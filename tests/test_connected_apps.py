"""A person's connected apps (accounts/apps/): what each may do, since when, and cutting it off."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client as HttpClient

from oauth.models import Consent, Grant
from tests.conftest import RegisteredClient, basic_auth


def test_lists_the_apps_with_their_scopes(
    exchange: Callable[..., dict[str, Any]],
    signed_in: HttpClient,
    make_client: Callable[..., RegisteredClient],
) -> None:
    printer, calendar = make_client(name="Photo printer"), make_client(name="Calendar")
    exchange(printer, scope="openid email")
    exchange(calendar, scope="openid profile")

    page = signed_in.get("/accounts/apps/").content.decode()

    assert page.index("Calendar") < page.index("Photo printer")
    assert "See your email address" in page and "See your name" in page
    assert "Allowed on" in page and "Last used on" in page


def test_revoking_access_ends_the_grants_at_once(
    exchange: Callable[..., dict[str, Any]],
    signed_in: HttpClient,
    token_request: Callable[..., Any],
    browser: HttpClient,
    confidential_client: RegisteredClient,
) -> None:
    tokens = exchange(confidential_client)

    response = signed_in.post(f"/accounts/apps/{confidential_client.client_id}/revoke")

    assert response.status_code == HTTPStatus.FOUND
    assert "can no longer act for you" in signed_in.get("/accounts/apps/").content.decode()
    assert not Consent.objects.exists()
    assert Grant.objects.get().revoked_at is not None
    auth = (confidential_client.client_id, confidential_client.secret)
    refresh = token_request(
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, auth=auth
    )
    assert refresh.json()["error"] == "invalid_grant"
    introspected = browser.post(
        "/oauth/introspect", urlencode({"token": tokens["access_token"]}),
        "application/x-www-form-urlencoded", HTTP_AUTHORIZATION=basic_auth(*auth),  # type: ignore[arg-type]
    )  # fmt: skip
    assert introspected.json() == {"active": False}


def test_revoking_access_voids_the_codes_the_app_has_not_exchanged(
    obtain_code: Callable[..., str],
    signed_in: HttpClient,
    exchange_code: Callable[..., Any],
    confidential_client: RegisteredClient,
) -> None:
    """Else an app could keep a fresh code in hand (prompt=none) to come back after it."""
    code = obtain_code(confidential_client)

    signed_in.post(f"/accounts/apps/{confidential_client.client_id}/revoke")
    exchange = exchange_code(confidential_client, code)

    assert exchange.json()["error"] == "invalid_grant"
    assert not Grant.objects.exists()


def test_revoking_needs_post_csrf_and_touches_only_ones_own_grants(
    exchange: Callable[..., dict[str, Any]],
    make_user: Callable[..., Any],
    confidential_client: RegisteredClient,
) -> None:
    from tests.conftest import HttpsClient

    exchange(confidential_client)  # alice's grant
    bob = HttpsClient(enforce_csrf_checks=True)
    bob.force_login(make_user("bob"))

    assert bob.get(f"/accounts/apps/{confidential_client.client_id}/revoke").status_code == 405
    assert bob.post(f"/accounts/apps/{confidential_client.client_id}/revoke").status_code == 403
    assert Grant.objects.get().revoked_at is None


@pytest.mark.parametrize("client_id", ["a%00b", "no-such-app", "x" * 65, "%ED%95%9C"])
def test_revoking_an_app_that_is_not_there_is_a_404(signed_in: HttpClient, client_id: str) -> None:
    assert signed_in.post(f"/accounts/apps/{client_id}/revoke").status_code == 404


def test_page_needs_sign_in_and_speaks_korean(browser: HttpClient, signed_in: HttpClient) -> None:
    assert HttpClient().get("/accounts/apps/", secure=True).status_code == HTTPStatus.FOUND
    korean = signed_in.get("/accounts/apps/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "연결된 앱" in korean
