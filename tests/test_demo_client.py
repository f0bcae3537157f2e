"""The demo client shows failures on its page instead of failing (its happy path runs in
test_browser.py)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django.test import Client as HttpClient


def test_unreachable_server_is_shown_not_a_500(browser: HttpClient, settings: Any) -> None:
    settings.ISSUER = "http://127.0.0.1:9"  # nothing listens on the discard port

    for method, path in [("post", "/demo/login"), ("get", "/demo/callback?state=x&code=y"),
                         ("post", "/demo/refresh"), ("post", "/demo/revoke")]:  # fmt: skip
        response = getattr(browser, method)(path)
        assert response.status_code == HTTPStatus.FOUND, path
        page = browser.get("/demo/")
        assert page.status_code == HTTPStatus.OK
        assert "ConnectionError" in page.content.decode()


def test_callback_with_a_foreign_state_is_refused(browser: HttpClient, live_server: Any,
                                                  settings: Any) -> None:  # fmt: skip
    settings.ISSUER = live_server.url

    browser.get("/demo/callback?state=not-ours&code=stolen")

    assert "state_mismatch" in browser.get("/demo/").content.decode()
