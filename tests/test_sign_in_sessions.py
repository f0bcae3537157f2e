"""Sign-in sessions the server knows: one per sign-in, named by `sid` in id_tokens (OpenID
Connect Back-Channel Logout §2.1, §2.4) and recorded on the code and grant issued in it; ended
anywhere (signing out, from another session, a password reset), over everywhere at once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

import jwt
import time_machine
from django.test import Client as HttpClient

from accounts.models import SignInSession, User
from accounts.sessions import device_label, sessions_end
from oauth.models import Grant
from tests.conftest import PASSWORD, HttpsClient, RegisteredClient

ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)


def sign_in(browser: HttpClient, **headers: str) -> None:
    response = browser.post("/accounts/login/", {"username": "alice", "password": PASSWORD},
                            **headers)  # fmt: skip
    assert response.status_code == HTTPStatus.FOUND


def test_a_sign_in_starts_a_session_the_server_knows(browser: HttpClient, user: User) -> None:
    sign_in(browser, HTTP_USER_AGENT=ANDROID_CHROME, REMOTE_ADDR="203.0.113.9")

    (session,) = SignInSession.objects.filter(user=user)
    assert browser.session["sid"] == session.sid and len(session.sid) >= 32
    assert session.session_key == browser.session.session_key
    assert (session.ip_address, session.method) == ("203.0.113.9", "password")
    assert device_label(session.user_agent) == "Chrome · Android"
    assert session.ended_at is None


def test_the_id_token_and_the_grant_carry_the_sessions_sid(
    signed_in: HttpClient,
    make_client: Callable[..., RegisteredClient],
    exchange: Callable[..., dict[str, Any]],
) -> None:
    tokens = exchange(make_client())

    sid = signed_in.session["sid"]
    claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    assert claims["sid"] == sid
    assert Grant.objects.get().sid == sid


def test_signing_out_ends_the_session(browser: HttpClient, user: User) -> None:
    sign_in(browser)
    sid = browser.session["sid"]

    browser.post("/accounts/logout/")

    assert SignInSession.objects.get(sid=sid).ended_at is not None


def test_a_session_ended_elsewhere_is_over_at_once(user: User) -> None:
    phone, laptop = HttpsClient(), HttpsClient()
    sign_in(phone)
    sign_in(laptop)

    laptop.post(f"/accounts/sessions/{phone.session['sid']}/end")

    assert phone.get("/accounts/").status_code == HTTPStatus.FOUND  # to sign in
    assert laptop.get("/accounts/").status_code == HTTPStatus.OK


def test_signing_out_everywhere_else_keeps_this_session(user: User) -> None:
    browsers = [HttpsClient() for _ in range(3)]
    for browser in browsers:
        sign_in(browser)

    browsers[0].post("/accounts/sessions/end-others")

    answers = [browser.get("/accounts/").status_code for browser in browsers]
    assert answers == [HTTPStatus.OK, HTTPStatus.FOUND, HTTPStatus.FOUND]
    assert SignInSession.objects.filter(ended_at__isnull=True).count() == 1


def test_no_one_ends_someone_elses_session(user: User, make_user: Callable[..., User]) -> None:
    make_user("bob")
    alice, bob = HttpsClient(), HttpsClient()
    sign_in(alice)
    bob.post("/accounts/login/", {"username": "bob", "password": PASSWORD})

    refused = bob.post(f"/accounts/sessions/{alice.session['sid']}/end")

    assert refused.status_code == HTTPStatus.NOT_FOUND
    assert alice.get("/accounts/").status_code == HTTPStatus.OK


def test_last_seen_is_written_now_and_then_not_on_every_request(
    browser: HttpClient, user: User
) -> None:
    sign_in(browser)
    session = SignInSession.objects.get()
    browser.get("/accounts/")

    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=2)):
        browser.get("/accounts/")
    assert SignInSession.objects.get().last_seen_at == session.last_seen_at
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=6)):
        browser.get("/accounts/")
    assert SignInSession.objects.get().last_seen_at > session.last_seen_at


def test_a_session_whose_row_ended_is_signed_out_when_next_checked(
    browser: HttpClient, user: User
) -> None:
    """Should its Django session survive (a store restored from a backup, say), the row
    still ends it."""
    sign_in(browser)
    SignInSession.objects.update(ended_at=datetime.now(UTC))

    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=6)):
        response = browser.get("/accounts/")

    assert response.status_code == HTTPStatus.FOUND


def test_a_session_from_before_sessions_were_known_is_adopted(
    browser: HttpClient, user: User
) -> None:
    sign_in(browser)
    SignInSession.objects.all().delete()
    session = browser.session
    del session["sid"], session["sid_seen"]
    session.save()

    assert browser.get("/accounts/").status_code == HTTPStatus.OK
    assert SignInSession.objects.get().sid == browser.session["sid"]


def test_ending_sessions_of_a_person_with_none_changes_nothing(user: User) -> None:
    assert sessions_end(user=user, reason="test") == []


def test_the_account_page_lists_the_sessions(user: User) -> None:
    phone, laptop = HttpsClient(), HttpsClient()
    sign_in(phone, HTTP_USER_AGENT=ANDROID_CHROME, REMOTE_ADDR="203.0.113.9")
    sign_in(laptop)

    page = laptop.get("/accounts/").content.decode()

    assert "Chrome · Android" in page and "203.0.113.9" in page
    assert page.count("data-sid=") == 2 and "this device" in page
