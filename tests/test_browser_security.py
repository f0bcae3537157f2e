"""The server's own pages in a browser's hands: CSRF on every form, no framing, a Content
Security Policy without inline scripts, referrer policies that keep `state` and codes out of
Referer headers, secure cookies and HSTS over https; and Argon2 for passwords."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from django.contrib.auth.hashers import make_password
from django.test import Client as HttpClient
from django.test import override_settings

from accounts.models import User
from tests.conftest import PASSWORD, HttpsClient, RegisteredClient, authorize_url


def pages(client: RegisteredClient) -> dict[str, str]:
    return {
        "login": "/accounts/login/",
        "consent": authorize_url(client),
        "error": "/oauth/authorize?client_id=nope",
        "admin": "/admin/",
        "account": "/accounts/",
        "apps": "/accounts/apps/",
    }


@pytest.mark.parametrize("page", ["login", "consent", "error", "admin", "account", "apps"])
def test_pages_cannot_be_framed_or_run_inline_scripts(
    make_user: Callable[..., User], confidential_client: RegisteredClient, page: str
) -> None:
    browser = HttpsClient()
    browser.force_login(make_user("staff", is_staff=True, is_superuser=True))

    response = browser.get(pages(confidential_client)[page])

    assert response["X-Frame-Options"] == "DENY"
    policy = response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "<script>" not in response.content.decode()


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/accounts/login/", {"username": "alice", "password": PASSWORD}),
        ("/accounts/logout/", {}),
        ("/i18n/setlang/", {"language": "ko"}),
        ("/accounts/apps/some-client/revoke", {}),
        ("/accounts/login/naver/", {}),
    ],
)
def test_every_form_needs_its_csrf_token(
    user: User, path: str, data: dict[str, str], upstream: Any
) -> None:
    browser = HttpsClient(enforce_csrf_checks=True)
    browser.force_login(user)

    assert browser.post(path, data).status_code == HTTPStatus.FORBIDDEN


def test_login_csrf_is_refused(user: User) -> None:
    """Login CSRF: a site cannot sign a victim in to the attacker's account."""
    victim = HttpsClient(enforce_csrf_checks=True)

    response = victim.post("/accounts/login/", {"username": "alice", "password": PASSWORD})

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "_auth_user_id" not in victim.session


def test_urls_carrying_state_or_codes_leak_no_referer(
    signed_in: HttpClient, confidential_client: RegisteredClient, make_client: Any
) -> None:
    consent = signed_in.get(authorize_url(confidential_client))
    first_party = make_client(first_party=True)
    redirect_with_code = signed_in.get(authorize_url(first_party))
    login = HttpsClient().get("/accounts/login/?next=/oauth/authorize%3Fstate%3Dx")

    assert redirect_with_code.status_code == HTTPStatus.FOUND
    assert redirect_with_code["Referrer-Policy"] == "no-referrer"
    # Pages with a form: the origin only (browsers send "Origin: null" from no-referrer pages,
    # which the CSRF check must refuse).
    assert consent["Referrer-Policy"] == "strict-origin"
    assert login["Referrer-Policy"] == "strict-origin"


@override_settings(
    SESSION_COOKIE_SECURE=True, CSRF_COOKIE_SECURE=True, SECURE_HSTS_SECONDS=31536000
)
def test_over_https_cookies_are_secure_and_http_only_and_hsts_is_sent(user: User) -> None:
    browser = HttpsClient()

    response = browser.post("/accounts/login/", {"username": "alice", "password": PASSWORD})

    session = response.cookies["sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"
    assert "max-age=31536000" in browser.get("/accounts/login/")["Strict-Transport-Security"]


def test_passwords_are_hashed_with_argon2_and_old_pbkdf2_hashes_still_work(
    browser: HttpClient, make_user: Callable[..., User]
) -> None:
    old = make_user("old", password=make_password(PASSWORD, hasher="pbkdf2_sha256"))

    signed = browser.post("/accounts/login/", {"username": "old", "password": PASSWORD})

    assert signed.status_code == HTTPStatus.FOUND
    old.refresh_from_db()
    assert old.password.startswith("argon2")  # upgraded on the way in


def test_unknown_accounts_cost_a_password_hash_too(
    browser: HttpClient, db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No telling which accounts exist by how fast a wrong answer comes back."""
    from django.contrib.auth.hashers import Argon2PasswordHasher

    calls: list[str] = []
    original = Argon2PasswordHasher.encode
    monkeypatch.setattr(
        Argon2PasswordHasher,
        "encode",
        lambda self, password, salt: calls.append("hash") or original(self, password, salt),
    )

    browser.post("/accounts/login/", {"username": "nobody", "password": "guess"})

    assert calls == ["hash"]


@pytest.mark.parametrize("weak", ["password", "12345678", "alice12", "alice@example.com"])
def test_weak_passwords_are_refused(user: User, weak: str) -> None:
    from django.contrib.auth.password_validation import ValidationError, validate_password

    with pytest.raises(ValidationError):
        validate_password(weak, user)
