"""Guessing stays bounded, and no stranger can lock a person out (OWASP Authentication Cheat
Sheet, "device cookies"): a browser that signed in before keeps its own allowance, unknown
browsers meet growing waits rather than a lock, a provider sign-in is never refused for failed
passwords, and no answer tells whether an account exists. Upstream sign-ins are limited per
address, and so are the security events their failures write."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from http import HTTPStatus
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.throttling import DEVICE_COOKIE, DEVICE_SALT
from events.models import SecurityEvent
from tests.conftest import PASSWORD, HttpsClient, query
from tests.test_rate_limits import attempt
from tests.test_upstream_login import sign_in_with, signed_in_user

HOME = "198.51.100.10"  # where the owner signs in from


@pytest.fixture
def clock(settings: Any) -> Iterator[time_machine.Coordinates]:
    """Small limits, and a stopped clock at the start of a day, moved on by hand: the waits are
    then exact, and no window ends in the middle of a test."""
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "sign_in_account": (3, 86400),
        "sign_in_address": (6, 900),
        "sign_in_device": (3, 86400),
        "upstream_start_address": (3, 600),
        "upstream_failure_address": (10, 900),
    }
    settings.RATE_DELAYS = {"sign_in_account": (60, 480)}
    day_start = (int(time.time()) // 86400 + 1) * 86400
    with time_machine.travel(day_start + 1, tick=False) as traveller:
        yield traveller


def strangers_guess(login: str, times: int) -> list[int]:
    """Wrong passwords from browsers never seen, each from an address of its own."""
    return [
        attempt(HttpsClient(), login, "wrong", f"203.0.113.{n}").status_code for n in range(times)
    ]


def owners_browser(login: str = "alice") -> HttpClient:
    """A browser its owner has signed in with, and signed out of: it keeps its device cookie."""
    browser = HttpsClient()
    assert attempt(browser, login, PASSWORD, HOME).status_code == HTTPStatus.FOUND
    browser.post("/accounts/logout/")
    assert "_auth_user_id" not in browser.session and DEVICE_COOKIE in browser.cookies
    return browser


def test_a_password_sign_in_leaves_a_signed_device_cookie(
    user: User, clock: Any, settings: Any
) -> None:
    browser = HttpsClient()
    first = attempt(browser, "alice", PASSWORD, HOME).cookies[DEVICE_COOKIE]
    again = attempt(browser, "alice@example.com", PASSWORD, HOME).cookies[DEVICE_COOKIE]

    account, _, nonce = unsigned(first.value).partition(":")
    assert account == str(user.pk) and len(nonce) >= 16
    assert first["max-age"] == settings.DEVICE_COOKIE_AGE >= 30 * 86400
    assert first["httponly"] and first["secure"] and first["samesite"] == "Lax"
    assert first["path"] == "/accounts/login/"
    assert unsigned(again.value).partition(":")[2] != nonce  # a new nonce each time


def unsigned(value: str, salt: str = DEVICE_SALT) -> str:
    """A signed cookie's value, read as the server reads it."""
    request = HttpRequest()
    request.COOKIES[DEVICE_COOKIE] = value
    return request.get_signed_cookie(DEVICE_COOKIE, salt=salt, max_age=30 * 86400)


def signed(value: str, salt: str) -> str:
    response = HttpResponse()
    response.set_signed_cookie(DEVICE_COOKIE, value, salt=salt)
    return response.cookies[DEVICE_COOKIE].value


def test_strangers_failing_elsewhere_do_not_stop_the_owners_browser(user: User, clock: Any) -> None:
    owner = owners_browser()
    refused = strangers_guess("alice", 8)
    assert HTTPStatus.TOO_MANY_REQUESTS in refused  # the strangers do meet the waits

    typo = attempt(owner, "alice", "wrong", HOME)
    signed_in = attempt(owner, "alice", PASSWORD, HOME)

    assert typo.status_code == HTTPStatus.OK
    assert signed_in.status_code == HTTPStatus.FOUND
    assert signed_in_user(owner) == user


@pytest.mark.parametrize("joins_by_email", [False, True])
def test_failed_passwords_never_refuse_a_provider_sign_in(
    upstream: Any, make_user: Callable[..., User], clock: Any, joins_by_email: bool
) -> None:
    """Strangers guessing at Jane's password, which she may not even have, must not shut her
    out of Google."""
    if joins_by_email:
        jane = make_user("jane", email="jane@example.com", email_verified=True)
        upstream.google.user.update(email="jane@example.com", email_verified=True)
    else:
        upstream.google.user.update(email="jane@example.com", email_verified=True)
        sign_in_with(HttpsClient(), "google")
        jane = User.objects.get(email="jane@example.com")
        assert not jane.has_usable_password()
    strangers_guess("jane", 4)
    strangers_guess("jane@example.com", 4)

    browser = HttpsClient()
    response = sign_in_with(browser, "google")

    assert response.status_code == HTTPStatus.FOUND
    assert signed_in_user(browser) == jane
    assert jane.identities.filter(provider="google").exists()


def test_unknown_browsers_meet_growing_waits_and_the_operator_hears_of_it(
    user: User, clock: time_machine.Coordinates
) -> None:
    assert strangers_guess("alice", 3) == [HTTPStatus.OK] * 3
    waits, pages = [], []
    for _ in range(5):
        refused = attempt(HttpsClient(), "alice", PASSWORD, "192.0.2.1")
        assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
        waits.append(int(refused["Retry-After"]))
        pages.append(refused.content.decode())
        clock.shift(waits[-1])
        assert strangers_guess("alice", 1) == [HTTPStatus.OK]  # once waited out, one more try

    assert waits == [60, 120, 240, 480, 480]  # doubling, up to the longest wait
    assert "Try again in 1 minute." in pages[0] and "Try again in 8 minutes." in pages[-1]
    limited = SecurityEvent.objects.filter(kind="rate_limited")
    assert [(event.user, event.detail) for event in limited] == [
        (user, {"limit": "sign_in_account"})
    ]


@pytest.mark.parametrize(
    ("language", "said"),
    [("en", "Try again in 30 seconds."), ("ko", "30초 후에 다시 시도하세요.")],
)
def test_a_wait_under_a_minute_is_said_in_seconds(
    user: User, clock: Any, settings: Any, language: str, said: str
) -> None:
    settings.RATE_DELAYS = {"sign_in_account": (30, 480)}
    strangers_guess("alice", 3)

    refused = HttpsClient().post(
        "/accounts/login/",
        {"username": "alice", "password": "wrong"},
        REMOTE_ADDR="192.0.2.4",
        HTTP_ACCEPT_LANGUAGE=language,
    )

    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS and refused["Retry-After"] == "30"
    assert said in refused.content.decode()


def test_a_refused_attempt_checks_no_password_even_the_right_one(
    user: User, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.contrib.auth.hashers import Argon2PasswordHasher

    strangers_guess("alice", 3)
    checks: list[str] = []
    monkeypatch.setattr(Argon2PasswordHasher, "verify", lambda *a: checks.append("x") or True)

    response = attempt(HttpsClient(), "alice", PASSWORD, "192.0.2.2")

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS and checks == []


def test_a_success_from_an_unknown_browser_ends_the_waits(user: User, clock: Any) -> None:
    strangers_guess("alice", 3)
    clock.shift(60)

    assert attempt(HttpsClient(), "alice", PASSWORD, "192.0.2.3").status_code == HTTPStatus.FOUND
    assert strangers_guess("alice", 3) == [HTTPStatus.OK] * 3


def test_a_device_that_fails_too_often_is_no_longer_trusted_until_it_signs_in_again(
    user: User, clock: time_machine.Coordinates
) -> None:
    owner = owners_browser()
    strangers_guess("alice", 3)  # strangers have made unknown browsers wait

    own_failures = [attempt(owner, "alice", "wrong", HOME).status_code for _ in range(3)]
    past_its_allowance = attempt(owner, "alice", PASSWORD, HOME)

    assert own_failures == [HTTPStatus.OK] * 3  # its own allowance, apart from the strangers'
    assert past_its_allowance.status_code == HTTPStatus.TOO_MANY_REQUESTS  # now one of them
    limits = SecurityEvent.objects.filter(kind="rate_limited").values_list("detail", flat=True)
    assert {"limit": "sign_in_device"} in list(limits)
    clock.shift(int(past_its_allowance["Retry-After"]))
    assert attempt(owner, "alice", PASSWORD, HOME).status_code == HTTPStatus.FOUND
    owner.post("/accounts/logout/")
    strangers_guess("alice", 4)
    assert attempt(owner, "alice", PASSWORD, HOME).status_code == HTTPStatus.FOUND  # trusted anew


def forged(how: str, user: User, owner: HttpClient) -> str:
    genuine = owner.cookies[DEVICE_COOKIE].value
    account, nonce = str(user.pk), genuine.split(":")[1]
    if how == "tampered":
        return genuine.replace(nonce, nonce[::-1])
    if how == "unsigned":
        return f"{account}:{nonce}"
    if how == "signed for another use":
        return signed(f"{account}:{nonce}", salt="elsewhere")
    return genuine


@pytest.mark.parametrize(
    "how", ["another account's", "tampered", "unsigned", "signed for another use", "too old"]
)
def test_a_device_cookie_not_genuinely_this_accounts_gives_no_privilege(
    make_user: Callable[..., User], clock: time_machine.Coordinates, settings: Any, how: str
) -> None:
    alice, _ = make_user("alice"), make_user("mallory")
    cookie = owners_browser("mallory" if how == "another account's" else "alice")
    browser = HttpsClient()
    browser.cookies[DEVICE_COOKIE] = forged(how, alice, cookie)
    if how == "too old":
        clock.shift(settings.DEVICE_COOKIE_AGE + 1)
    strangers_guess("alice", 3)

    response = attempt(browser, "alice", PASSWORD, HOME)

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS


@pytest.mark.parametrize("unknown", ["nobody", "nobody@example.com", "ALICE"])
def test_unknown_and_known_logins_are_counted_and_answered_alike(
    user: User, clock: time_machine.Coordinates, unknown: str
) -> None:
    """Side by side, at the same moments, each from an address of its own."""

    def answer(login: str, address: str) -> tuple[int, str, str]:
        page = attempt(HttpsClient(), login, "wrong", address)
        message = page.content.decode().split('class="errors"')[1].split("</div>")[0]
        return page.status_code, page.get("Retry-After", ""), message

    answers = []
    for _ in range(6):
        answers.append((answer("alice", "192.0.2.10"), answer(unknown, "192.0.2.11")))
        clock.shift(30)

    assert all(known == other for known, other in answers)
    assert {status for (status, _, _), _ in answers} == {HTTPStatus.OK, 429}


def test_the_device_check_adds_no_query_to_a_sign_in(user: User, clock: Any) -> None:
    owner, stranger = owners_browser(), HttpsClient()
    with CaptureQueriesContext(connection) as from_the_device:
        attempt(owner, "alice", "wrong", HOME)
    with CaptureQueriesContext(connection) as from_elsewhere:
        attempt(stranger, "alice", "wrong", "192.0.2.20")

    assert len(from_the_device) == len(from_elsewhere)


def start_and_cancel(browser: HttpClient, address: str = "192.0.2.30") -> Any:
    """Start a Google sign-in, then come back with one's own state, cancelled."""
    started = browser.post("/accounts/login/google/", REMOTE_ADDR=address)
    if started.status_code != HTTPStatus.FOUND:
        return started
    state = query(started["Location"])["state"]
    return browser.get(
        "/accounts/callback/google/",
        {"state": state, "error": "access_denied"},
        REMOTE_ADDR=address,
    )


def test_upstream_starts_over_the_limit_are_refused_and_write_nothing(
    browser: HttpClient, upstream: Any, clock: Any
) -> None:
    cancelled = [start_and_cancel(browser).status_code for _ in range(3)]
    pending_before = dict(browser.session.get("upstream_sign_ins", {}))
    refused = start_and_cancel(browser)
    korean = browser.post(
        "/accounts/login/google/", REMOTE_ADDR="192.0.2.30", HTTP_ACCEPT_LANGUAGE="ko"
    ).content.decode()

    assert cancelled == [HTTPStatus.BAD_REQUEST] * 3
    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert 0 < int(refused["Retry-After"]) <= 600 and refused["Cache-Control"] == "no-store"
    assert "Too many sign-ins were started from your network" in refused.content.decode()
    assert "로그인 시도가 너무 많습니다" in korean
    assert browser.session.get("upstream_sign_ins", {}) == pending_before
    assert SecurityEvent.objects.filter(kind="sign_in_failed").count() == 3
    limited = SecurityEvent.objects.filter(kind="rate_limited").values_list("detail", flat=True)
    assert list(limited) == [{"limit": "upstream_start_address"}]
    elsewhere = HttpsClient().post("/accounts/login/google/", REMOTE_ADDR="192.0.2.31")
    assert elsewhere.status_code == HTTPStatus.FOUND


def test_failed_upstream_sign_ins_are_recorded_only_so_often(
    db: None, upstream: Any, clock: Any, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "upstream_start_address": (100, 600),
        "upstream_failure_address": (2, 900),
    }

    pages = [start_and_cancel(HttpsClient()) for _ in range(5)]

    assert all('data-reason="denied"' in page.content.decode() for page in pages)
    assert SecurityEvent.objects.filter(kind="sign_in_failed").count() == 2
    limited = SecurityEvent.objects.filter(kind="rate_limited").values_list("detail", flat=True)
    assert list(limited) == [{"limit": "upstream_failure_address"}]
    assert sum("not recorded" in record.getMessage() for record in caplog.records) == 3
