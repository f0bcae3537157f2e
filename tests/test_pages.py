"""The server's own pages: sign-in by username or email, English and Korean, phone-ready."""

from __future__ import annotations

import uuid
from http import HTTPStatus

import pytest
from django.test import Client as HttpClient

from accounts.models import User
from tests.conftest import PASSWORD, RegisteredClient, authorize_url


@pytest.mark.parametrize("login", ["alice", "alice@example.com", "ALICE@example.com"])
def test_sign_in_with_username_or_email(browser: HttpClient, user: User, login: str) -> None:
    response = browser.post("/accounts/login/", {"username": login, "password": PASSWORD})

    assert response.status_code == HTTPStatus.FOUND
    assert browser.get("/accounts/").context["user"] == user


@pytest.mark.parametrize(
    ("login", "password"),
    [("alice", "wrong"), ("nobody", PASSWORD), ("nobody@example.com", PASSWORD), ("", "")],
)
def test_failed_sign_in_says_the_same_whatever_was_wrong(
    browser: HttpClient, user: User, login: str, password: str
) -> None:
    response = browser.post("/accounts/login/", {"username": login, "password": password})

    assert response.status_code == HTTPStatus.OK
    assert "_auth_user_id" not in browser.session
    if login:
        assert "do not match an account" in response.content.decode()


def test_inactive_person_cannot_sign_in(browser: HttpClient, make_user: object) -> None:
    make_user("bob", is_active=False)  # type: ignore[operator]

    right = browser.post("/accounts/login/", {"username": "bob", "password": PASSWORD})
    wrong = browser.post("/accounts/login/", {"username": "bob", "password": "not it"})

    assert "_auth_user_id" not in browser.session
    # The same words as a wrong password: nothing tells that this password was right.
    assert right.context["form"].errors == wrong.context["form"].errors


def test_a_person_deactivated_while_signed_in_is_signed_out(
    signed_in: HttpClient, user: User
) -> None:
    assert signed_in.get("/accounts/").context["user"] == user
    User.objects.filter(pk=user.pk).update(is_active=False)

    assert signed_in.get("/accounts/")["Location"].startswith("/accounts/login/")


def test_a_session_naming_no_account_is_signed_out(browser: HttpClient, user: User) -> None:
    """Even with a real account's session hash beside it: only the id names the person."""
    session = browser.session
    session["_auth_user_id"] = str(uuid.uuid4())
    session["_auth_user_backend"] = "accounts.backends.UsernameOrEmailBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.save()

    assert browser.get("/accounts/")["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "http:/evil"])
def test_next_must_stay_on_this_server(browser: HttpClient, user: User, target: str) -> None:
    response = browser.post(
        "/accounts/login/", {"username": "alice", "password": PASSWORD, "next": target}
    )

    assert response["Location"] == "/accounts/"


def test_pages_speak_korean_when_the_browser_asks(
    signed_in: HttpClient, confidential_client: RegisteredClient
) -> None:
    consent = signed_in.get(
        authorize_url(confidential_client), HTTP_ACCEPT_LANGUAGE="ko-KR,ko;q=0.9"
    )
    error = signed_in.get("/oauth/authorize?client_id=nope", HTTP_ACCEPT_LANGUAGE="ko")

    assert '<html lang="ko">' in consent.content.decode()
    assert "허용" in consent.content.decode() and "거부" in consent.content.decode()
    assert "이메일 주소와 인증 여부 보기" in consent.content.decode()
    assert "이 로그인 요청을 계속할 수 없습니다" in error.content.decode()


def test_login_page_in_both_languages_with_a_switcher(browser: HttpClient, db: None) -> None:
    english = browser.get("/accounts/login/").content.decode()
    korean = browser.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()

    assert "Username or email" in english
    assert "아이디 또는 이메일" in korean
    assert 'name="language" value="ko"' in english
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in english


def test_language_switcher_remembers_the_choice(browser: HttpClient, db: None) -> None:
    response = browser.post("/i18n/setlang/", {"language": "ko", "next": "/accounts/login/"})

    assert response["Location"] == "/accounts/login/"
    assert "로그인" in browser.get("/accounts/login/").content.decode()


def test_sign_out_is_a_post(signed_in: HttpClient) -> None:
    assert signed_in.get("/accounts/logout/").status_code == HTTPStatus.METHOD_NOT_ALLOWED

    signed_in.post("/accounts/logout/")

    assert "_auth_user_id" not in signed_in.session


def test_the_current_language_is_marked_current_not_disabled(browser: HttpClient, db: None) -> None:
    korean = browser.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()

    assert '<span class="current" aria-current="true" lang="ko">한국어</span>' in korean
    assert 'name="language" value="en"' in korean and 'value="ko"' not in korean
    assert "disabled" not in korean


@pytest.mark.parametrize(
    ("language", "words"), [("en", "You have been signed out."), ("ko", "로그아웃했습니다.")]
)
def test_after_signing_out_the_sign_in_page_says_so_once(
    signed_in: HttpClient, language: str, words: str
) -> None:
    signed_out = signed_in.post("/accounts/logout/", follow=True, HTTP_ACCEPT_LANGUAGE=language)

    assert signed_out.redirect_chain == [("/accounts/login/", HTTPStatus.FOUND)]
    assert f'<p class="notice" role="status">{words}</p>' in signed_out.content.decode()
    assert words not in signed_in.get("/accounts/login/").content.decode()


def test_the_sign_in_page_says_nothing_of_signing_out_otherwise(
    browser: HttpClient, db: None
) -> None:
    assert "signed out" not in browser.get("/accounts/login/").content.decode()


def test_an_apps_logout_says_so_on_its_own_page_not_at_a_later_sign_in(
    signed_in: HttpClient,
) -> None:
    """oauth/logout.py's page says it; a message left over would greet a later sign-in."""
    done = signed_in.post("/oauth/logout/confirm", {"decision": "sign_out"})

    assert "_auth_user_id" not in signed_in.session
    assert "signed out" in done.content.decode()
    assert "You have been signed out." not in signed_in.get("/accounts/login/").content.decode()
