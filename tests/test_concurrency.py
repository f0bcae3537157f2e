"""Races, on PostgreSQL with one connection per thread: a code or a refresh token presented twice
at the same moment is honoured exactly once (RFC 6749 §4.1.2, RFC 9700 §4.14.2)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

import pytest
from django.db import connection

from oauth.models import Grant, RefreshToken
from tests.conftest import HttpsClient, RegisteredClient, authorize_url, basic_auth, query

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs concurrent connections (PostgreSQL)"
    ),
    pytest.mark.django_db(transaction=True),
]


def race(client: RegisteredClient, data: dict[str, str], racers: int = 2) -> list[int]:
    """POST the same token request from several threads at once; return the statuses."""
    body = urlencode(data)
    start = threading.Barrier(racers)
    statuses: list[int] = []

    def racer() -> None:
        try:
            http = HttpsClient()
            start.wait()
            response = http.post(
                "/oauth/token",
                body,
                "application/x-www-form-urlencoded",
                HTTP_AUTHORIZATION=basic_auth(client.client_id, client.secret or ""),
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=racer) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(statuses)


@pytest.fixture
def code_for(
    make_user: Callable[..., Any], make_client: Callable[..., RegisteredClient]
) -> tuple[RegisteredClient, dict[str, str]]:
    client = make_client(first_party=True)
    browser = HttpsClient()
    browser.force_login(make_user())
    code = query(browser.get(authorize_url(client))["Location"])["code"]
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": client.model.redirect_uris[0],
    }
    return client, data


def test_two_concurrent_exchanges_of_one_code_yield_exactly_one_success(
    code_for: tuple[RegisteredClient, dict[str, str]],
) -> None:
    client, data = code_for

    statuses = race(client, data)

    assert statuses == [HTTPStatus.OK, HTTPStatus.BAD_REQUEST]
    # The loser is a replay: the winner's grant is revoked too (RFC 6749 §4.1.2).
    assert Grant.objects.get().revoked_at is not None


def test_two_concurrent_refreshes_of_one_token_yield_exactly_one_success(
    code_for: tuple[RegisteredClient, dict[str, str]],
) -> None:
    client, data = code_for
    http = HttpsClient()
    tokens = http.post(
        "/oauth/token",
        urlencode(data),
        "application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic_auth(client.client_id, client.secret or ""),
    ).json()

    statuses = race(
        client, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )

    assert statuses == [HTTPStatus.OK, HTTPStatus.BAD_REQUEST]
    assert RefreshToken.objects.filter(used_at__isnull=True).count() == 1
