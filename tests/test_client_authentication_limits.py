"""Guessing a client's credentials is bounded at every endpoint that checks them: revocation
and introspection count requests per address, failed client authentications included, as the
token endpoint does."""

from __future__ import annotations

import time
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

import pytest
import time_machine
from django.test import Client as HttpClient

from events.models import SecurityEvent
from tests.conftest import RegisteredClient, basic_auth


@pytest.fixture
def small_limits(settings: Any) -> Iterator[None]:
    """A window that has just begun, so the test's requests all fall in it."""
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "revocation_address": (4, 60),
        "introspection_address": (4, 60),
    }
    with time_machine.travel((int(time.time()) // 60 + 1) * 60 + 1, tick=True):
        yield


def call(
    browser: HttpClient, path: str, client: RegisteredClient, secret: str, address: str
) -> Any:
    return browser.post(
        path,
        urlencode({"token": "x"}),
        "application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic_auth(client.client_id, secret),
        REMOTE_ADDR=address,
    )


@pytest.mark.parametrize("path", ["/oauth/revoke", "/oauth/introspect"])
def test_failed_client_authentications_are_counted_per_address(
    browser: HttpClient, confidential_client: RegisteredClient, small_limits: None, path: str
) -> None:
    guesses = [
        call(browser, path, confidential_client, f"guess-{n}", "203.0.113.5").status_code
        for n in range(4)
    ]
    over = call(browser, path, confidential_client, confidential_client.secret or "", "203.0.113.5")
    elsewhere = call(
        browser, path, confidential_client, confidential_client.secret or "", "203.0.113.6"
    )

    assert guesses == [HTTPStatus.UNAUTHORIZED] * 4
    assert over.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert over.json()["error"] == "too_many_requests" and over["Retry-After"].isdigit()
    assert elsewhere.status_code == HTTPStatus.OK
    assert SecurityEvent.objects.filter(kind="rate_limited").count() == 1
