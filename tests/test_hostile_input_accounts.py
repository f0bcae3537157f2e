"""Hostile input at the account pages and the logout endpoint (issue 17's bad-input list):
odd bytes, huge values, injected mail headers, forged links and tokens get a clear answer,
never a 500, and change nothing they should not."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client as HttpClient

from accounts.models import SignInSession, User
from tests.mailserver import Mailbox
from tests.test_hostile_input import HOSTILE_VALUES

FORM = "application/x-www-form-urlencoded"
PAGES = {
    "/accounts/signup/": ["email", "password1", "password2"],
    "/accounts/password/reset/": ["email"],
    "/accounts/email/": ["email", "password"],
    "/accounts/password/": ["old_password", "new_password1", "new_password2"],
    "/accounts/delete/": ["confirm"],
    "/oauth/logout": ["id_token_hint", "client_id", "post_logout_redirect_uri", "state",
                      "ui_locales"],
    "/oauth/logout/confirm": ["client_id", "post_logout_redirect_uri", "state", "decision"],
}  # fmt: skip


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("name", HOSTILE_VALUES)
def test_the_account_forms_never_fail_on_hostile_values(
    signed_in: HttpClient, mailbox: Mailbox, user: User, path: str, name: str
) -> None:
    value = HOSTILE_VALUES[name]
    body = "&".join(f"{field}={value}" for field in PAGES[path])

    posted = signed_in.post(path, body.encode(), FORM)
    got = signed_in.get(f"{path}?{body}") if path == "/oauth/logout" else posted

    for response in (posted, got):
        assert response.status_code < 500, response.content[:300]
    assert User.objects.count() == 1
    assert mailbox.messages == []


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/verify/%00/",
        "/accounts/verify/" + "A" * 5000 + "/",
        "/accounts/verify/eyJ1c2VyIjoiJ30:1tZ:AAAA/",
        "/accounts/password/reset/%ff/%fe/",
        "/accounts/password/reset/MQ/set-password/",
        "/oauth/logout?id_token_hint=e30.e30.e30",
        "/oauth/logout?id_token_hint=eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
        "/oauth/logout?client_id=a&client_id=b",
        "/oauth/logout?ui_locales=" + "ko%20" * 2000,
        "/oauth/logout?state=%00",
        "/oauth/logout?state=" + "s" * 5000,
    ],
)
def test_forged_links_and_tokens_get_a_clear_answer(signed_in: HttpClient, path: str) -> None:
    response = signed_in.get(path)

    assert response.status_code in (HTTPStatus.OK, HTTPStatus.BAD_REQUEST, HTTPStatus.NOT_FOUND)
    assert "_auth_user_id" in signed_in.session


@pytest.mark.parametrize("sid", ["%00", "A" * 300, "..%2F..", "%22%3C%3E"])
def test_ending_a_session_by_a_hostile_id_ends_nothing(signed_in: HttpClient, sid: str) -> None:
    response = signed_in.post(f"/accounts/sessions/{sid}/end")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert SignInSession.objects.filter(ended_at__isnull=True).count() == 1


def test_a_name_with_line_breaks_injects_no_mail_header(
    browser: HttpClient, mailbox: Mailbox, settings: Any
) -> None:
    """The address is the only part of a header that comes from outside; line breaks in it
    are refused before any mail is written."""
    body = "email=carol%40example.com%0d%0aBcc%3a+mallory%40example.com&password1=x&password2=x"

    response = browser.post("/accounts/signup/", body.encode(), FORM)

    assert response.status_code == HTTPStatus.OK
    assert mailbox.messages == []
    assert not User.objects.exists()
