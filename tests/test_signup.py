"""Sign-up with an email address and a password, and proving the address by a mailed link:
signed, single use, 24 hours; no telling which addresses have accounts; nothing half-done
when the mail server fails."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import jwt
import pytest
import time_machine
from django.test import Client as HttpClient

from accounts.models import User
from events.models import SecurityEvent
from tests.conftest import PASSWORD, HttpsClient, RegisteredClient
from tests.mailserver import Mailbox, text_of
from tests.test_upstream_login import sign_in_with, use_email

NEW_PASSWORD = "a fresh and long passphrase"


def sign_up(browser: HttpClient, email: str = "carol@example.com", **fields: str) -> Any:
    data = {"email": email, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD, **fields}
    return browser.post("/accounts/signup/", data)


def test_sign_up_mails_a_link_that_verifies_the_address(
    browser: HttpClient, mailbox: Mailbox
) -> None:
    response = sign_up(browser)

    assert response.status_code == HTTPStatus.OK
    assert "carol@example.com" in response.content.decode()
    carol = User.objects.get(email="carol@example.com")
    assert not carol.email_verified and carol.check_password(NEW_PASSWORD)
    assert SecurityEvent.objects.filter(kind="signed_up", user=carol).exists()
    link = mailbox.link("carol@example.com")
    assert link.startswith("https://testserver/accounts/verify/")

    verified = browser.get(urlsplit(link).path)

    assert verified.status_code == HTTPStatus.OK
    carol.refresh_from_db()
    assert carol.email_verified
    assert SecurityEvent.objects.filter(kind="email_verified", user=carol).exists()


def test_an_unverified_account_signs_in(browser: HttpClient, mailbox: Mailbox) -> None:
    sign_up(browser)

    response = browser.post("/accounts/login/", {"username": "carol@example.com",
                                                 "password": NEW_PASSWORD})  # fmt: skip

    assert response.status_code == HTTPStatus.FOUND
    home = browser.get("/accounts/").content.decode()
    assert "not confirmed yet" in home


def test_the_link_works_once(browser: HttpClient, mailbox: Mailbox) -> None:
    sign_up(browser)
    path = urlsplit(mailbox.link("carol@example.com")).path
    browser.get(path)

    again = browser.get(path)

    assert again.status_code == HTTPStatus.BAD_REQUEST
    assert 'data-reason="invalid"' in again.content.decode()


def test_the_link_expires_after_a_day(browser: HttpClient, mailbox: Mailbox) -> None:
    sign_up(browser)
    path = urlsplit(mailbox.link("carol@example.com")).path

    with time_machine.travel(datetime.now(UTC) + timedelta(hours=25)):
        response = browser.get(path)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert 'data-reason="expired"' in response.content.decode()
    assert not User.objects.get(email="carol@example.com").email_verified


@pytest.mark.parametrize(
    "token",
    ["nonsense", "a" * 3000, "eyJ1c2VyIjoiMSJ9:1abc:forged", "%00", "한국어", "..%2F..%2Fadmin"],
)
def test_hostile_links_get_a_clear_page(browser: HttpClient, token: str) -> None:
    response = browser.get(f"/accounts/verify/{token}/")

    assert response.status_code in (HTTPStatus.BAD_REQUEST, HTTPStatus.NOT_FOUND)


def test_a_taken_address_gets_the_same_answer_and_its_holder_is_mailed(
    browser: HttpClient, user: User, mailbox: Mailbox
) -> None:
    fresh = sign_up(browser, "carol@example.com")
    taken = sign_up(browser, "ALICE@example.com")

    def page(response: Any, email: str) -> str:
        text = response.content.decode().replace(email, "EMAIL")
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", text)

    assert taken.status_code == fresh.status_code == HTTPStatus.OK
    assert page(taken, "ALICE@example.com") == page(fresh, "carol@example.com")
    assert User.objects.filter(email_canonical="alice@example.com").count() == 1
    note = mailbox.last_to("alice@example.com")
    assert "exists already" in text_of(note)
    assert "/accounts/password/reset/" in text_of(note)
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"password2": "something else entirely"}, "password2"),
        ({"password1": "12345678901", "password2": "12345678901"}, "password2"),
        ({"password1": "carol@example.com", "password2": "carol@example.com"}, "password2"),
        ({"email": "not an address"}, "email"),
        ({"email": "carol@example.com\r\nBcc: mallory@example.com"}, "email"),
        ({"email": "carol@ex\u212aample.com"}, "email"),
    ],
)
def test_bad_sign_ups_say_what_is_wrong_and_create_nothing(
    browser: HttpClient, mailbox: Mailbox, fields: dict[str, str], field: str
) -> None:
    response = (
        sign_up(browser, **fields)
        if "email" not in fields
        else sign_up(browser, fields.pop("email"), **fields)
    )

    assert response.status_code == HTTPStatus.OK
    assert field in response.context["form"].errors
    assert not User.objects.exists()
    assert mailbox.messages == []


@pytest.mark.parametrize("failure", ["smtp_down", "smtp_silent"])
def test_when_mail_cannot_be_sent_no_account_is_left(
    browser: HttpClient, request: pytest.FixtureRequest, failure: str
) -> None:
    request.getfixturevalue(failure)

    response = sign_up(browser)

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "could not send mail" in response.content.decode()
    assert not User.objects.exists()


def test_sign_up_can_be_turned_off(browser: HttpClient, settings: Any) -> None:
    settings.SIGNUP_ENABLED = False

    assert browser.get("/accounts/signup/").status_code == HTTPStatus.NOT_FOUND
    assert sign_up(browser).status_code == HTTPStatus.NOT_FOUND
    assert "/accounts/signup/" not in browser.get("/accounts/login/").content.decode()


def test_sign_ups_are_limited_per_address(
    browser: HttpClient, mailbox: Mailbox, settings: Any
) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "signup_address": (2, 3600)}
    sign_up(browser, "a@example.com")
    sign_up(browser, "b@example.com")

    refused = sign_up(browser, "c@example.com")

    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert not User.objects.filter(email="c@example.com").exists()


def test_the_link_can_be_sent_again_a_few_times(
    browser: HttpClient, mailbox: Mailbox, settings: Any, make_user: Callable[..., User]
) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "verification_resend": (2, 3600)}
    browser.force_login(make_user("dave", email_verified=False))

    answers = [browser.post("/accounts/verify/resend/").status_code for _ in range(3)]

    assert answers == [HTTPStatus.FOUND, HTTPStatus.FOUND, HTTPStatus.TOO_MANY_REQUESTS]
    assert len(mailbox.to("dave@example.com")) == 2
    browser.get(urlsplit(mailbox.link("dave@example.com")).path)
    assert User.objects.get(username="dave").email_verified


def test_an_unverified_sign_up_is_never_joined_to_a_provider_identity(
    browser: HttpClient, mailbox: Mailbox, upstream: Any
) -> None:
    sign_up(browser, "kim@example.com")
    use_email(upstream, "google", "kim@example.com", vouched=True)

    sign_in_with(HttpsClient(), "google")

    kim = User.objects.get(username="kim")
    assert not kim.identities.exists()


def test_the_tokens_of_an_unverified_account_say_so(
    browser: HttpClient, mailbox: Mailbox, make_client: Callable[..., RegisteredClient],
    exchange: Callable[..., dict[str, Any]], signed_in: HttpClient, user: User,
) -> None:  # fmt: skip
    User.objects.filter(pk=user.pk).update(email_verified=False)

    tokens = exchange(make_client())

    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert claims["email_verified"] is False
