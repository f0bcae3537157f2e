"""Guessing stays bounded, and no stranger can lock a person out: a provider sign-in is never
refused for failed passwords."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from http import HTTPStatus
from typing import Any

import pytest
import time_machine

from accounts.models import User
from tests.conftest import HttpsClient
from tests.test_rate_limits import attempt
from tests.test_upstream_login import sign_in_with, signed_in_user


@pytest.fixture
def clock(settings: Any) -> Iterator[time_machine.Coordinates]:
    """Small limits, and a stopped clock at the start of a day: no window ends in the middle of
    a test."""
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "sign_in_account": (3, 86400),
        "sign_in_address": (6, 900),
    }
    day_start = (int(time.time()) // 86400 + 1) * 86400
    with time_machine.travel(day_start + 1, tick=False) as traveller:
        yield traveller


def strangers_guess(login: str, times: int) -> list[int]:
    """Wrong passwords from browsers never seen, each from an address of its own."""
    return [
        attempt(HttpsClient(), login, "wrong", f"203.0.113.{n}").status_code for n in range(times)
    ]


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
