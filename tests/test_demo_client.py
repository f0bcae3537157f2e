"""The demo client shows failures on its page instead of failing, and speaks the person's
language and asks the server to (OIDC Core §3.1.2.1 `ui_locales`); its happy path runs in
test_browser.py."""

from __future__ import annotations

import time
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client as HttpClient
from joserfc import jwt
from joserfc.errors import JoseError

from democlient import oauth
from oauth.keys import active_signing_key


def test_unreachable_server_is_shown_not_a_500(browser: HttpClient, settings: Any) -> None:
    settings.ISSUER = "http://127.0.0.1:9"  # nothing listens on the discard port

    for method, path in [("post", "/demo/login"), ("get", "/demo/callback?state=x&code=y"),
                         ("post", "/demo/refresh"), ("post", "/demo/revoke")]:  # fmt: skip
        response = getattr(browser, method)(path)
        assert response.status_code == HTTPStatus.FOUND, path
        page = browser.get("/demo/")
        assert page.status_code == HTTPStatus.OK
        assert "ConnectionError" in page.content.decode()
        assert page["Cache-Control"] == "no-store"  # the page that shows the tokens


def test_callback_with_a_foreign_state_is_refused(browser: HttpClient, live_server: Any,
                                                  settings: Any) -> None:  # fmt: skip
    settings.ISSUER = live_server.url

    browser.get("/demo/callback?state=not-ours&code=stolen")

    assert "state_mismatch" in browser.get("/demo/").content.decode()


@pytest.mark.parametrize(
    "change",
    [
        {"iss": "https://evil.example"},
        {"aud": "another-client"},
        {"exp": int(time.time()) - 60},
        {"nonce": "someone-elses"},
        {"iat": None},
    ],
)
def test_the_demo_checks_the_id_tokens_claims_not_only_its_signature(
    transactional_db: None, live_server: Any, settings: Any, change: dict[str, Any]
) -> None:
    """OIDC Core §3.1.3.7; the demo is code people copy."""
    settings.ISSUER = live_server.url
    server = oauth.metadata()
    now = int(time.time())
    claims = {"iss": server["issuer"], "aud": oauth.CLIENT_ID, "sub": "someone",
              "iat": now, "exp": now + 600, "nonce": "sent"}  # fmt: skip
    key = active_signing_key("RS256")
    good = jwt.encode({"alg": "RS256"}, claims, key)
    bad_claims = {name: value for name, value in {**claims, **change}.items() if value is not None}
    bad = jwt.encode({"alg": "RS256"}, bad_claims, key)

    assert oauth.id_token(good, server=server, nonce="sent")["claims"]["sub"] == "someone"
    with pytest.raises(JoseError):
        oauth.id_token(bad, server=server, nonce="sent")


def test_a_callback_without_a_code_is_shown_not_a_500(
    transactional_db: None, browser: HttpClient, live_server: Any, settings: Any
) -> None:
    settings.ISSUER = live_server.url
    sent = parse_qs(urlsplit(browser.post("/demo/login")["Location"]).query)

    response = browser.get("/demo/callback", {"state": sent["state"][0], "iss": live_server.url,
                                              "code": ""})  # fmt: skip

    assert response.status_code == HTTPStatus.FOUND
    assert browser.get("/demo/").status_code == HTTPStatus.OK


@pytest.mark.parametrize(
    ("language", "words"),
    [("en", "Sign in with this server"), ("ko", "이 서버로 로그인")],
)
def test_the_demo_page_speaks_the_persons_language(
    browser: HttpClient, language: str, words: str
) -> None:
    page = browser.get("/demo/", HTTP_ACCEPT_LANGUAGE=language).content.decode()

    assert f'<html lang="{language}">' in page
    assert words in page


@pytest.mark.parametrize(
    ("headers", "cookies", "asked"),
    [
        ({}, {}, "en"),
        ({"HTTP_ACCEPT_LANGUAGE": "ko"}, {}, "ko"),
        ({}, {"django_language": "ko"}, "ko"),
    ],
)
def test_the_demo_asks_the_server_for_its_pages_language(
    transactional_db: None,
    browser: HttpClient,
    live_server: Any,
    settings: Any,
    headers: dict[str, str],
    cookies: dict[str, str],
    asked: str,
) -> None:
    settings.ISSUER = live_server.url
    browser.cookies.load(cookies)

    sent = parse_qs(urlsplit(browser.post("/demo/login", **headers)["Location"]).query)

    assert sent["ui_locales"] == [asked]
