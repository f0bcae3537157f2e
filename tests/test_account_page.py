"""The account page's steps: changing the password (every other session ends), setting a first
password on an account a provider made (after a fresh sign-in), and changing the email address
(proven by a link to the new one; the old one is told)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import pytest
import time_machine
from django.test import Client as HttpClient

from accounts.models import User
from events.models import SecurityEvent
from tests.conftest import PASSWORD, HttpsClient
from tests.mailserver import Mailbox, text_of
from tests.test_upstream_login import sign_in_with

NEW = "a fresh and long passphrase"


def sign_in(browser: HttpClient, login: str = "alice", password: str = PASSWORD) -> None:
    response = browser.post("/accounts/login/", {"username": login, "password": password})
    assert response.status_code == HTTPStatus.FOUND


def change(old: str) -> dict[str, str]:
    return {"old_password": old, "new_password1": NEW, "new_password2": NEW}


def test_changing_the_password_ends_every_other_session(user: User) -> None:
    here, there = HttpsClient(), HttpsClient()
    sign_in(here)
    sign_in(there)

    response = here.post("/accounts/password/", change(PASSWORD))

    assert response.status_code == HTTPStatus.FOUND
    assert here.get("/accounts/").status_code == HTTPStatus.OK
    assert there.get("/accounts/").status_code == HTTPStatus.FOUND
    user.refresh_from_db()
    assert user.check_password(NEW)
    assert SecurityEvent.objects.filter(kind="password_changed", user=user).exists()
    # This session still ends from elsewhere: its row follows its new key.
    again = HttpsClient()
    sign_in(again, password=NEW)
    again.post("/accounts/sessions/end-others")
    assert here.get("/accounts/").status_code == HTTPStatus.FOUND


def test_a_wrong_current_password_changes_nothing(signed_in: HttpClient, user: User) -> None:
    response = signed_in.post("/accounts/password/", change("wrong"))

    assert response.status_code == HTTPStatus.OK
    assert "old_password" in response.context["form"].errors
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_an_account_a_provider_made_sets_a_password_after_a_fresh_sign_in(
    browser: HttpClient, upstream: Any
) -> None:
    sign_in_with(browser, "google")
    user = User.objects.get()
    assert not user.has_usable_password()

    page = browser.get("/accounts/password/")
    assert page.status_code == HTTPStatus.OK  # Google signed them in a moment ago
    browser.post("/accounts/password/", {"new_password1": NEW, "new_password2": NEW})
    user.refresh_from_db()
    assert user.check_password(NEW)


def test_setting_a_first_password_long_after_signing_in_asks_to_sign_in_again(
    browser: HttpClient, upstream: Any
) -> None:
    sign_in_with(browser, "google")

    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=11)):
        stale = browser.get("/accounts/password/")

    assert stale.status_code == HTTPStatus.FOUND
    assert stale["Location"].startswith("/accounts/login/?next=")


def test_changing_the_email_takes_a_link_to_the_new_address(
    signed_in: HttpClient, user: User, mailbox: Mailbox
) -> None:
    response = signed_in.post("/accounts/email/", {"email": "alice@new.example",
                                                   "password": PASSWORD})  # fmt: skip

    assert response.status_code == HTTPStatus.FOUND
    user.refresh_from_db()
    assert user.email == "alice@example.com"  # not before the link is opened
    signed_in.get(urlsplit(mailbox.link("alice@new.example")).path)

    user.refresh_from_db()
    assert (user.email, user.email_verified) == ("alice@new.example", True)
    told = mailbox.last_to("alice@example.com")
    assert "alice@new.example" in text_of(told)
    assert SecurityEvent.objects.filter(kind="email_changed", user=user).exists()


@pytest.mark.parametrize(
    ("email", "password", "field"),
    [
        ("alice@new.example", "wrong", "password"),
        ("ALICE@example.com", PASSWORD, "email"),
        ("alice@new.example\nBcc: x@example.com", PASSWORD, "email"),
    ],
)
def test_a_bad_email_change_says_what_is_wrong(
    signed_in: HttpClient, mailbox: Mailbox, email: str, password: str, field: str
) -> None:
    response = signed_in.post("/accounts/email/", {"email": email, "password": password})

    assert response.status_code == HTTPStatus.OK
    assert field in response.context["form"].errors
    assert mailbox.messages == []


def test_an_address_taken_meanwhile_is_not_taken_over(
    signed_in: HttpClient, user: User, mailbox: Mailbox, make_user: Callable[..., User]
) -> None:
    signed_in.post("/accounts/email/", {"email": "bob@example.com", "password": PASSWORD})
    make_user("bob")

    response = signed_in.get(urlsplit(mailbox.link("bob@example.com")).path)

    assert response.status_code == HTTPStatus.CONFLICT
    user.refresh_from_db()
    assert user.email == "alice@example.com"
