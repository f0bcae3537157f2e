"""Rate limits, counted in the shared cache: password guessing per account and per address (a
lockout that signing in through a provider does not get around), the token endpoint per client
and per address, introspection per client. Over a limit: 429 with Retry-After and a security
event; other accounts keep working."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

import pytest
import time_machine
from django.test import Client as HttpClient

from accounts.models import User
from oauth.models import SecurityEvent
from tests.conftest import PASSWORD, HttpsClient, RegisteredClient, basic_auth
from tests.test_upstream_login import sign_in_with, signed_in_user


@pytest.fixture
def limits(settings: Any) -> dict[str, tuple[int, int]]:
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "sign_in_account": (3, 900),
        "sign_in_address": (6, 900),
        "token_client": (4, 60),
        "token_address": (6, 60),
        "introspection_client": (3, 60),
    }
    return settings.RATE_LIMITS


def attempt(browser: HttpClient, login: str, password: str, address: str = "198.51.100.7") -> Any:
    return browser.post(
        "/accounts/login/", {"username": login, "password": password}, REMOTE_ADDR=address
    )


def test_an_account_is_locked_after_repeated_failures(
    browser: HttpClient, user: User, limits: Any
) -> None:
    for _ in range(3):
        assert attempt(browser, "alice", "wrong").status_code == HTTPStatus.OK

    locked = attempt(browser, "alice", PASSWORD)  # even the right password now waits

    assert locked.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert 0 < int(locked["Retry-After"]) <= 900
    assert "Too many failed sign-ins" in locked.content.decode()
    assert "_auth_user_id" not in browser.session
    assert SecurityEvent.objects.filter(kind="rate_limited").count() == 1


def test_the_lockout_counts_the_account_whatever_name_it_is_given(
    browser: HttpClient, user: User, limits: Any
) -> None:
    attempt(browser, "alice", "wrong")
    attempt(browser, "alice@example.com", "wrong")
    attempt(browser, "ALICE@example.com", "wrong")

    assert attempt(browser, "alice", PASSWORD).status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_the_lockout_ends_with_its_window(browser: HttpClient, user: User, limits: Any) -> None:
    with time_machine.travel("2031-01-01 10:00:00", tick=False):
        for _ in range(3):
            attempt(browser, "alice", "wrong")
    with time_machine.travel("2031-01-01 10:15:01", tick=False):
        response = attempt(browser, "alice", PASSWORD)

    assert response.status_code == HTTPStatus.FOUND


def test_locking_one_account_leaves_the_others_alone(
    browser: HttpClient, make_user: Callable[..., User], limits: Any
) -> None:
    make_user("alice")
    make_user("bob")
    for _ in range(3):
        attempt(browser, "alice", "wrong", address="198.51.100.1")

    assert attempt(HttpsClient(), "bob", PASSWORD, address="198.51.100.1").status_code == 302


def test_an_address_guessing_at_many_accounts_is_stopped(
    browser: HttpClient, make_user: Callable[..., User], limits: Any
) -> None:
    for name in ("a1", "a2", "a3", "a4", "a5", "a6"):
        attempt(browser, name, "wrong", address="203.0.113.66")

    from_there = attempt(HttpsClient(), "nobody", "wrong", address="203.0.113.66")
    elsewhere = attempt(HttpsClient(), "nobody", "wrong", address="203.0.113.67")

    assert from_there.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert elsewhere.status_code == HTTPStatus.OK


def test_unknown_and_known_accounts_are_refused_alike(
    browser: HttpClient, user: User, limits: Any
) -> None:
    known = [attempt(browser, "alice", "wrong").content for _ in range(4)][-1]
    unknown = [attempt(HttpsClient(), "mallory", "wrong").content for _ in range(4)][-1]

    def message(page: bytes) -> str:
        return page.decode().split('class="errors"')[1].split("</div>")[0]

    assert message(known) == message(unknown)


def test_signing_in_through_a_provider_does_not_get_around_a_lockout(
    browser: HttpClient, upstream: Any, limits: Any
) -> None:
    sign_in_with(browser, "google")
    account = signed_in_user(browser)
    assert account is not None
    account.set_password(PASSWORD)
    account.save()
    for _ in range(3):
        attempt(HttpsClient(), account.username, "wrong")

    again = HttpsClient()
    response = sign_in_with(again, "google")

    assert 'data-reason="locked"' in response.content.decode()
    assert signed_in_user(again) is None


def token_call(browser: HttpClient, client: RegisteredClient, address: str = "192.0.2.9") -> Any:
    return browser.post(
        "/oauth/token",
        urlencode({"grant_type": "refresh_token", "refresh_token": "x"}),
        "application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic_auth(client.client_id, client.secret or ""),
        REMOTE_ADDR=address,
    )


def test_the_token_endpoint_is_limited_per_client(
    browser: HttpClient, make_client: Callable[..., RegisteredClient], limits: Any
) -> None:
    busy, other = make_client(), make_client()
    statuses = [token_call(browser, busy, f"192.0.2.{n}").status_code for n in range(5)]

    assert statuses[:4] == [HTTPStatus.BAD_REQUEST] * 4
    over = token_call(browser, busy, "192.0.2.99")
    assert over.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert over.json()["error"] == "too_many_requests"
    assert over["Retry-After"].isdigit() and over["Cache-Control"] == "no-store"
    assert token_call(browser, other, "192.0.2.98").status_code == HTTPStatus.BAD_REQUEST


def test_the_token_endpoint_is_limited_per_address(
    browser: HttpClient, make_client: Callable[..., RegisteredClient], limits: Any
) -> None:
    clients = [make_client() for _ in range(4)]
    for client in clients:
        token_call(browser, client)
        token_call(browser, client)

    assert token_call(browser, clients[0]).status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert token_call(browser, clients[0], "192.0.2.200").status_code == HTTPStatus.BAD_REQUEST


def test_introspection_is_limited_per_client(
    browser: HttpClient, confidential_client: RegisteredClient, limits: Any
) -> None:
    def introspect() -> Any:
        return browser.post(
            "/oauth/introspect",
            urlencode({"token": "x"}),
            "application/x-www-form-urlencoded",
            HTTP_AUTHORIZATION=basic_auth(
                confidential_client.client_id, confidential_client.secret or ""
            ),
        )

    assert [introspect().status_code for _ in range(3)] == [HTTPStatus.OK] * 3
    assert introspect().status_code == HTTPStatus.TOO_MANY_REQUESTS
