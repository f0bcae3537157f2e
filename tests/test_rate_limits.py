"""Rate limits, counted in the shared cache: password guessing per account and per address
(test_sign_in_throttling.py: device cookies, growing waits, provider sign-in never refused),
the token endpoint per client and per address, introspection per client. Over a limit: 429 with
Retry-After and a security event; other accounts keep working."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

import pytest
import time_machine
from django.test import Client as HttpClient

from accounts.models import User
from events.models import SecurityEvent
from tests.conftest import PASSWORD, HttpsClient, RegisteredClient, basic_auth


@pytest.fixture
def limits(settings: Any) -> Iterator[dict[str, tuple[int, int]]]:
    """Small limits, and a clock that starts at the beginning of their windows: the windows are
    fixed, so hits on either side of a window's edge count apart (a test run at 13:00 sharp
    would see its sixth guess in a fresh window)."""
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "sign_in_account": (3, 900),
        "sign_in_address": (6, 900),
        "token_client": (4, 60),
        "token_address": (6, 60),
        "introspection_client": (3, 60),
    }
    window_start = (int(time.time()) // 900 + 1) * 900
    with time_machine.travel(window_start + 1, tick=True):
        yield settings.RATE_LIMITS


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


def test_a_name_in_another_case_counts_alike_whether_or_not_its_account_exists(
    user: User, limits: Any
) -> None:
    """Counted together only when the account does not exist, ALICE then alice would tell
    that it does."""

    def after_three_upper_case_failures(login: str, address: str) -> int:
        for _ in range(3):
            attempt(HttpsClient(), login.upper(), "wrong", address=address)
        return attempt(HttpsClient(), login, "wrong", address=address).status_code

    existing = after_three_upper_case_failures("alice", "198.51.100.8")
    unknown = after_three_upper_case_failures("mallory", "198.51.100.9")

    assert existing == unknown == HTTPStatus.OK


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
    """Each from an address of its own: the answer an address's limit gives is another."""

    def fourth(login: str, address: str) -> bytes:
        return [attempt(browser, login, "wrong", address).content for _ in range(4)][-1]

    def message(page: bytes) -> str:
        return page.decode().split('class="errors"')[1].split("</div>")[0]

    # One instant for both, so that the wait each page names is the same number of seconds.
    with time_machine.travel(time.time(), tick=False):
        known, unknown = fourth("alice", "198.51.100.8"), fourth("mallory", "198.51.100.9")
    assert message(known) == message(unknown)


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


def test_naming_a_client_without_its_secret_does_not_use_up_its_allowance(
    browser: HttpClient, make_client: Callable[..., RegisteredClient], limits: Any
) -> None:
    victim = make_client()
    impostor = RegisteredClient(victim.model, "not-the-secret")
    for n in range(6):
        assert token_call(browser, impostor, f"192.0.2.{n}").status_code == 401

    assert token_call(browser, victim, "192.0.2.100").status_code == HTTPStatus.BAD_REQUEST


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


def test_a_public_clients_allowance_is_counted_per_address(
    browser: HttpClient, make_client: Callable[..., RegisteredClient], limits: Any
) -> None:
    """Naming a public client is all its authentication: strangers flooding it from one
    address must not lock out its users elsewhere."""
    spa = make_client(public=True)

    def call(address: str) -> int:
        return browser.post(
            "/oauth/token",
            urlencode({"grant_type": "authorization_code", "code": "garbage",
                       "client_id": spa.client_id}),
            "application/x-www-form-urlencoded",
            REMOTE_ADDR=address,
        ).status_code  # fmt: skip

    flood = [call("192.0.2.50") for _ in range(5)]

    assert flood[-1] == HTTPStatus.TOO_MANY_REQUESTS
    assert call("192.0.2.51") == HTTPStatus.BAD_REQUEST


def test_a_refused_sign_in_checks_no_password_and_writes_no_more_rows(
    browser: HttpClient, user: User, limits: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.contrib.auth.hashers import Argon2PasswordHasher

    for _ in range(3):
        attempt(browser, "alice", "wrong")
    checks: list[str] = []
    monkeypatch.setattr(Argon2PasswordHasher, "verify", lambda *a: checks.append("x") or False)
    failures_before = SecurityEvent.objects.filter(kind="sign_in_failed").count()

    for _ in range(5):
        assert attempt(browser, "alice", "wrong").status_code == HTTPStatus.TOO_MANY_REQUESTS

    assert checks == []
    assert SecurityEvent.objects.filter(kind="sign_in_failed").count() == failures_before
    # One event per limit reached (the account's, then the address's), not one per request.
    limited = SecurityEvent.objects.filter(kind="rate_limited").values_list("detail", flat=True)
    assert sorted(detail["limit"] for detail in limited) == ["sign_in_account", "sign_in_address"]


def test_ipv6_addresses_are_counted_per_64(browser: HttpClient, user: User, limits: Any) -> None:
    for host in range(6):
        attempt(HttpsClient(), f"nobody{host}", "wrong", address=f"2001:db8:1:2::{host + 1}")

    same_64 = attempt(HttpsClient(), "alice", PASSWORD, address="2001:db8:1:2::ffff")
    other_64 = attempt(HttpsClient(), "alice", PASSWORD, address="2001:db8:1:3::1")

    assert same_64.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert other_64.status_code == HTTPStatus.FOUND


def test_ipv4_clients_seen_through_ipv6_are_counted_one_by_one(
    browser: HttpClient, user: User, limits: Any
) -> None:
    """::ffff:a.b.c.d is an IPv4 client; the /64 around it holds every IPv4 address."""
    for name in ("a1", "a2", "a3", "a4", "a5", "a6"):
        attempt(HttpsClient(), name, "wrong", address="::ffff:198.51.100.7")

    same = attempt(HttpsClient(), "alice", PASSWORD, address="198.51.100.7")
    another = attempt(HttpsClient(), "alice", PASSWORD, address="::ffff:203.0.113.9")

    assert same.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert another.status_code == HTTPStatus.FOUND


def test_behind_a_proxy_the_forwarded_address_is_counted(
    browser: HttpClient, user: User, limits: Any, settings: Any
) -> None:
    settings.TRUST_X_FORWARDED_FOR = True

    for name in ("a1", "a2", "a3", "a4", "a5", "a6"):
        HttpsClient().post("/accounts/login/", {"username": name, "password": "x"},
                           REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5")  # fmt: skip

    def right_password_from(client_address: str) -> Any:
        return HttpsClient().post(
            "/accounts/login/", {"username": "alice", "password": PASSWORD},
            REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=client_address,
        )  # fmt: skip

    blocked, other = right_password_from("203.0.113.5"), right_password_from("203.0.113.6")
    assert blocked.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert other.status_code == HTTPStatus.FOUND


def test_forwarded_addresses_are_not_believed_unless_configured(
    browser: HttpClient, user: User, limits: Any
) -> None:
    """Without TRUST_X_FORWARDED_FOR a client's own header must not spread its guesses."""
    for index in range(6):
        HttpsClient().post("/accounts/login/", {"username": f"a{index}", "password": "x"},
                           REMOTE_ADDR="198.51.100.7",
                           HTTP_X_FORWARDED_FOR=f"203.0.113.{index}")  # fmt: skip

    response = attempt(HttpsClient(), "alice", PASSWORD, address="198.51.100.7")

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_behind_a_proxy_only_the_address_it_appended_is_believed(
    browser: HttpClient, user: User, limits: Any, settings: Any
) -> None:
    """The proxy appends the address it saw; what comes before it is the client's to write."""
    settings.TRUST_X_FORWARDED_FOR = True
    for index in range(6):
        HttpsClient().post("/accounts/login/", {"username": f"a{index}", "password": "x"},
                           REMOTE_ADDR="10.0.0.1",
                           HTTP_X_FORWARDED_FOR=f"192.0.2.{index}, 203.0.113.5")  # fmt: skip

    response = HttpsClient().post(
        "/accounts/login/", {"username": "alice", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5",
    )  # fmt: skip

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_a_counter_lives_only_as_long_as_its_window(limits: Any, settings: Any) -> None:
    """Counters must not pile up in the shared store: each expires with its window."""
    from django.core.cache import cache

    from infra.ratelimit import _window, rate_hit

    rate_hit("token_client", "a-client")
    key, _, seconds = _window("token_client", "a-client")
    assert cache.get(key) == 1
    if settings.REDIS_URL:
        stored_key = cache.make_and_validate_key(key)
        assert 0 < cache.client().ttl(stored_key) <= seconds + 1
    rate_hit("token_client", "a-client")
    assert cache.get(key) == 2
