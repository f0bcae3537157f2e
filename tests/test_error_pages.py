"""The error pages are ours (400, 403, 404, 500 and the CSRF failure): styled like the rest,
in the person's language, with a way on. Over real HTTP to the live server, DEBUG off."""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

import pytest
import requests
from django.conf import settings

from accounts.models import User
from tests.conftest import PASSWORD

KOREAN = {"Accept-Language": "ko-KR,ko;q=0.9"}
TOO_MANY_FIELDS = "&".join(f"f{number}=1" for number in range(1500))


def signed_in_session(live: str, username: str) -> requests.Session:
    """A person's browser, signed in through the sign-in form."""
    session = requests.Session()
    page = session.get(f"{live}/accounts/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token is not None
    session.post(
        f"{live}/accounts/login/",
        data={"csrfmiddlewaretoken": token[1], "username": username, "password": PASSWORD},
        timeout=10,
    )
    assert session.cookies.get(settings.SESSION_COOKIE_NAME)
    return session


@pytest.fixture
def failing(live: str, settings: Any) -> str:
    settings.ROOT_URLCONF = "tests.failing_urls"
    return live


def page(response: requests.Response) -> str:
    assert 'href="/static/css/site.css"' in response.text  # styled like every other page
    assert "word-break" not in response.text  # (the style is the stylesheet's, not inline)
    return response.text


@pytest.mark.parametrize(
    ("headers", "cookies", "heading"),
    [
        ({}, {}, "Page not found"),
        (KOREAN, {}, "페이지를 찾을 수 없습니다"),
        ({}, {"django_language": "ko"}, "페이지를 찾을 수 없습니다"),
        (KOREAN, {"django_language": "en"}, "Page not found"),
    ],
)
def test_a_missing_page_is_ours_in_the_persons_language(
    live: str, headers: dict[str, str], cookies: dict[str, str], heading: str
) -> None:
    assert not settings.DEBUG  # as in production: DEBUG shows Django's technical pages instead
    response = requests.get(f"{live}/no/such/page", headers=headers, cookies=cookies, timeout=10)

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert f"<h1>{heading}</h1>" in page(response)
    assert 'href="/accounts/login/"' in response.text
    assert 'name="language"' in response.text  # the language switcher, as on every page


@pytest.mark.parametrize(("headers", "words"), [({}, "cannot be handled"), (KOREAN, "처리할 수")])
def test_a_request_that_cannot_be_read_gets_our_400(
    live: str, headers: dict[str, str], words: str
) -> None:
    url = f"{live}/accounts/login/?{TOO_MANY_FIELDS}"
    response = requests.get(url, headers=headers, timeout=10)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert words in page(response)


def test_a_request_for_another_host_gets_our_400(live: str, db: None) -> None:
    response = requests.get(f"{live}/accounts/login/", headers={"Host": "evil.example"}, timeout=10)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "cannot be handled" in page(response)
    assert "evil.example" not in response.text


@pytest.mark.parametrize(
    ("headers", "words", "account", "sign_out"),
    [
        ({}, "no access to the administration pages", "Go to your account", "Sign out"),
        (KOREAN, "관리 페이지를 사용할 수 없습니다", "내 계정으로 가기", "로그아웃"),
    ],
)
def test_a_person_without_staff_rights_at_the_admin_gets_a_way_out(
    live: str, user: User, headers: dict[str, str], words: str, account: str, sign_out: str
) -> None:
    browser = signed_in_session(live, "alice")

    response = browser.get(f"{live}/admin/", headers=headers, timeout=10)

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert words in page(response)
    assert f'href="/accounts/">{account}</a>' in response.text
    assert f'<button type="submit">{sign_out}</button>' in response.text
    token = re.search(r'action="/accounts/logout/">\s*<input[^>]+value="([^"]+)"', response.text)
    assert token is not None
    signed_out = browser.post(
        f"{live}/accounts/logout/", data={"csrfmiddlewaretoken": token[1]}, timeout=10
    )
    assert signed_out.url == f"{live}/accounts/login/"
    assert browser.get(f"{live}/accounts/", timeout=10).url.startswith(f"{live}/accounts/login/")


@pytest.mark.parametrize(("headers", "words"), [({}, "This form has expired"), (KOREAN, "만료")])
def test_a_form_without_its_csrf_token_gets_our_page(
    live: str, db: None, headers: dict[str, str], words: str
) -> None:
    response = requests.post(
        f"{live}/accounts/login/", data={"username": "alice"}, headers=headers, timeout=10
    )

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert words in page(response)
    assert 'href="/accounts/login/"' in response.text


@pytest.mark.parametrize(
    ("headers", "words"), [({}, "Something went wrong on our side"), (KOREAN, "서버에 문제가")]
)
def test_a_server_error_is_ours_without_the_database(
    failing: str, user: User, headers: dict[str, str], words: str
) -> None:
    """Signed in, so a page asking who is there would need the database that is down."""
    browser = signed_in_session(failing, "alice")

    response = browser.get(f"{failing}/database-down", headers=headers, timeout=10)

    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert words in page(response)
    assert 'href="/"' in response.text
    assert "csrfmiddlewaretoken" not in response.text  # no form: no token to make


@pytest.fixture
def redis_out(settings: Any) -> None:
    """A shared cache where nothing listens."""
    settings.REDIS_URL = "redis://127.0.0.1:9/0"
    settings.CACHES = {
        "default": {"BACKEND": "infra.cache.RedisCache", "LOCATION": settings.REDIS_URL}
    }


@pytest.mark.parametrize(
    ("headers", "words"), [({}, "Briefly unavailable"), (KOREAN, "잠시 사용할 수 없습니다")]
)
def test_while_the_shared_cache_is_out_a_person_gets_our_503(
    live: str, db: None, redis_out: None, headers: dict[str, str], words: str
) -> None:
    """Signing in counts attempts in the cache: the page says to come back shortly."""
    browser = requests.Session()
    form = browser.get(f"{live}/accounts/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    assert token is not None

    response = browser.post(
        f"{live}/accounts/login/",
        data={"csrfmiddlewaretoken": token[1], "username": "alice", "password": "x"},
        headers=headers,
        timeout=10,
    )

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert words in page(response)
    assert response.headers["Retry-After"] and response.headers["Cache-Control"] == "no-store"
