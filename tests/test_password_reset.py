"""Password reset by mail (Django's views and tokens): the same answer whether the address has
an account, limits per address and per email, a link that works once and for an hour, and a
reset that ends the person's sessions and their apps' refresh-token families."""

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
from tests.conftest import PASSWORD, HttpsClient, RegisteredClient
from tests.mailserver import Mailbox, text_of

NEW = {
    "new_password1": "a fresh and long passphrase",
    "new_password2": "a fresh and long passphrase",
}


def ask_reset(browser: HttpClient, email: str) -> Any:
    return browser.post("/accounts/password/reset/", {"email": email})


def open_link(browser: HttpClient, link: str) -> Any:
    """Django moves the token from the URL into the session and redirects: follow it."""
    response = browser.get(urlsplit(link).path)
    if response.status_code == HTTPStatus.FOUND:
        response = browser.get(response["Location"])
    return response


def test_reset_by_mail_sets_a_new_password(
    browser: HttpClient, user: User, mailbox: Mailbox
) -> None:
    asked = ask_reset(browser, "Alice@Example.com")

    assert asked.status_code == HTTPStatus.FOUND
    assert asked["Location"] == "/accounts/password/reset/sent/"
    page = open_link(browser, mailbox.link("alice@example.com"))
    assert page.status_code == HTTPStatus.OK and page.context["validlink"]
    done = browser.post(page.wsgi_request.path, NEW)

    assert done.status_code == HTTPStatus.FOUND
    user.refresh_from_db()
    assert user.check_password(NEW["new_password1"])
    assert SecurityEvent.objects.filter(kind="password_reset", user=user).exists()


def test_the_answer_is_the_same_for_an_address_without_an_account(
    browser: HttpClient, user: User, mailbox: Mailbox
) -> None:
    known = ask_reset(browser, "alice@example.com")
    unknown = ask_reset(browser, "nobody@example.com")

    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert mailbox.to("nobody@example.com") == []
    assert len(mailbox.to("alice@example.com")) == 1


def test_the_link_works_once(browser: HttpClient, user: User, mailbox: Mailbox) -> None:
    ask_reset(browser, "alice@example.com")
    link = mailbox.link("alice@example.com")
    page = open_link(browser, link)
    browser.post(page.wsgi_request.path, NEW)

    again = open_link(HttpsClient(), link)

    assert again.status_code == HTTPStatus.OK and not again.context["validlink"]
    assert 'data-reason="invalid"' in again.content.decode()


def test_the_link_expires_within_the_hour(
    browser: HttpClient, user: User, mailbox: Mailbox
) -> None:
    ask_reset(browser, "alice@example.com")
    link = mailbox.link("alice@example.com")

    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=61)):
        page = open_link(browser, link)

    assert not page.context["validlink"]


@pytest.mark.parametrize(
    "path", ["/accounts/password/reset/x/y/", "/accounts/password/reset/%00/set-password/",
             "/accounts/password/reset/MQ/" + "a" * 500 + "/"],
)  # fmt: skip
def test_forged_links_get_a_clear_page(browser: HttpClient, user: User, path: str) -> None:
    response = browser.get(path)

    assert response.status_code in (HTTPStatus.OK, HTTPStatus.NOT_FOUND)
    if response.status_code == HTTPStatus.OK:
        assert not response.context["validlink"]


def test_a_reset_ends_other_sessions_and_the_apps_refresh_tokens(
    browser: HttpClient,
    signed_in: HttpClient,
    user: User,
    mailbox: Mailbox,
    make_client: Callable[..., RegisteredClient],
    exchange: Callable[..., dict[str, Any]],
    token_request: Callable[..., Any],
) -> None:
    client = make_client()
    tokens = exchange(client)
    other = HttpsClient()
    ask_reset(other, "alice@example.com")
    page = open_link(other, mailbox.link("alice@example.com"))
    other.post(page.wsgi_request.path, NEW)

    refreshed = token_request(
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(client.client_id, client.secret),
    )

    assert refreshed.status_code == HTTPStatus.BAD_REQUEST
    assert refreshed.json()["error"] == "invalid_grant"
    assert signed_in.get("/accounts/").status_code == HTTPStatus.FOUND  # to sign in


def test_a_reset_proves_the_address(
    browser: HttpClient, make_user: Callable[..., User], mailbox: Mailbox
) -> None:
    make_user("erin", email_verified=False)
    ask_reset(browser, "erin@example.com")
    page = open_link(browser, mailbox.link("erin@example.com"))
    browser.post(page.wsgi_request.path, NEW)

    assert User.objects.get(username="erin").email_verified


def test_resets_are_limited_per_email_and_per_address(
    user: User, mailbox: Mailbox, settings: Any
) -> None:
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "password_reset_email": (2, 3600),
        "password_reset_address": (4, 3600),
    }
    browser = HttpsClient()
    answers = [ask_reset(browser, "alice@example.com").status_code for _ in range(3)]
    other = ask_reset(browser, "bob@example.com").status_code
    over_address = ask_reset(browser, "carol@example.com").status_code

    assert answers == [HTTPStatus.FOUND, HTTPStatus.FOUND, HTTPStatus.TOO_MANY_REQUESTS]
    assert other == HTTPStatus.FOUND  # another address, from the same place
    assert over_address == HTTPStatus.TOO_MANY_REQUESTS
    assert len(mailbox.to("alice@example.com")) == 2


@pytest.mark.usefixtures("smtp_down")
def test_when_mail_cannot_be_sent_the_person_is_told(browser: HttpClient, user: User) -> None:
    response = ask_reset(browser, "alice@example.com")

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "could not send mail" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_the_mail_is_in_the_pages_language(
    browser: HttpClient, user: User, mailbox: Mailbox
) -> None:
    browser.post("/accounts/password/reset/", {"email": "alice@example.com"},
                 HTTP_ACCEPT_LANGUAGE="ko")  # fmt: skip

    message = mailbox.last_to("alice@example.com")
    assert message["Subject"] == "새 비밀번호를 정해 주세요"
    assert "한 시간" in text_of(message)
