"""In a real browser (headless Debian Chromium driven by Playwright): sign in, consent, and the
client's redirect receives the code; and the demo client's whole round trip.

Database work happens before and after the browser runs: Playwright's event loop in this thread
would make Django refuse ORM calls in between.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.management import call_command
from playwright.sync_api import Browser, expect, sync_playwright

from accounts.models import User
from oauth.models import Grant
from tests.conftest import PASSWORD, Pkce, RegisteredClient, authorize_url

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def chromium() -> Iterator[Browser]:
    assert os.path.exists(CHROMIUM), "Browser tests need Chromium: apt-get install chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


class CallbackRecorder(BaseHTTPRequestHandler):
    """The third-party app's redirect endpoint: remembers the query it was sent."""

    received: list[dict[str, list[str]]]

    def do_GET(self) -> None:  # noqa: N802  (http.server's naming)
        url = urlsplit(self.path)
        if url.path == "/callback":
            self.received.append(parse_qs(url.query))
        body = b"<html><body><h1 id='done'>Back at the app</h1></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def app_callback(serve: Callable[..., str]) -> tuple[str, list[dict[str, list[str]]]]:
    received: list[dict[str, list[str]]] = []
    handler = type("Recorder", (CallbackRecorder,), {"received": received})
    return serve(handler) + "/callback", received


def test_sign_in_consent_and_allow_sends_the_code_to_the_client(
    live: str,
    user: User,
    make_client: Callable[..., RegisteredClient],
    app_callback: tuple[str, list[dict[str, list[str]]]],
) -> None:
    redirect_uri, received = app_callback
    client = make_client(name="Photo printer", redirect_uris=[redirect_uri])
    pkce = Pkce()
    url = live + authorize_url(client, pkce, state="browser-state", scope="openid email")

    with chromium() as browser:
        page = browser.new_page(locale="en-US", viewport={"width": 390, "height": 844})
        page.goto(url)
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        page.get_by_label("Username or email").fill("alice@example.com")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()

        expect(page.get_by_role("heading")).to_contain_text("Photo printer")
        expect(page.locator("li[data-scope=email]")).to_contain_text("email address")
        allow = page.get_by_role("button", name="Allow")
        assert allow.bounding_box()["width"] < 390  # type: ignore[index]  (fits a phone)
        allow.click()
        expect(page.locator("#done")).to_be_visible()

    (params,) = received
    assert params["state"] == ["browser-state"]
    assert params["iss"] == [live]
    token = requests.post(
        f"{live}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": params["code"][0],
            "redirect_uri": redirect_uri,
            "code_verifier": pkce.verifier,
        },
        auth=(client.client_id, client.secret or ""),
        timeout=10,
    )
    assert token.status_code == 200
    assert Grant.objects.get().user == user


def test_deny_sends_access_denied_to_the_client(
    live: str,
    user: User,
    make_client: Callable[..., RegisteredClient],
    app_callback: tuple[str, list[dict[str, list[str]]]],
) -> None:
    redirect_uri, received = app_callback
    client = make_client(redirect_uris=[redirect_uri])

    with chromium() as browser:
        page = browser.new_page(locale="ko-KR")
        page.goto(live + authorize_url(client))
        page.get_by_label("아이디 또는 이메일").fill("alice")
        page.get_by_label("비밀번호").fill(PASSWORD)
        page.get_by_role("button", name="로그인").click()
        page.get_by_role("button", name="거부").click()
        expect(page.locator("#done")).to_be_visible()

    assert received[0]["error"] == ["access_denied"]
    assert not Grant.objects.exists()


def test_demo_client_round_trip(live: str, user: User) -> None:
    call_command("setupdemo", "--port", live.rsplit(":", 1)[1], stdout=open(os.devnull, "w"))

    with chromium() as browser:
        page = browser.new_page()
        page.goto(f"{live}/demo/")
        page.get_by_role("button", name="Sign in with this server").click()
        page.get_by_label("Username or email").fill("alice")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("button", name="Allow").click()

        expect(page.locator("#demo-userinfo")).to_contain_text('"preferred_username": "alice"')
        expect(page.locator("#demo-access-token")).to_contain_text('"typ": "at+jwt"')
        expect(page.locator("#demo-id-token")).to_contain_text('"nonce"')
        first = page.locator("#demo-token").inner_text()

        page.locator("#demo-refresh").click()
        expect(page.locator("#demo-token")).not_to_have_text(first)
        expect(page.locator("#demo-error")).to_have_count(0)

        page.locator("#demo-revoke").click()
        expect(page.locator("#demo-revoked")).to_be_visible()
        page.locator("#demo-refresh").click()
        expect(page.locator("#demo-error")).to_contain_text("invalid_grant")

    assert Grant.objects.get().revoked_at is not None


def test_operator_registers_a_client_uses_its_secret_and_rotates_it(
    live: str, make_user: Callable[..., User], user: User
) -> None:
    """The operator's whole job in the admin, in a browser; the client page's screenshot goes
    to tests/artifacts/ (docs/admin-client.png, in docs/operating.md, is one)."""
    make_user("operator", is_staff=True, is_superuser=True)
    artifacts = Path(__file__).parent / "artifacts"
    artifacts.mkdir(exist_ok=True)

    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(f"{live}/admin/")  # to the one sign-in form, and back
        page.get_by_label("Username").fill("operator")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.goto(f"{live}/admin/oauth/client/add/")
        page.locator("#id_name").fill("Photo printer")
        page.locator("#id_redirect_uris").fill("https://printer.example/callback")
        for scope in ("openid", "profile"):
            page.locator(f"input[name=allowed_scopes][value={scope}]").check()
        page.locator("input[name=grant_types][value=authorization_code]").check()
        page.locator("input[name=grant_types][value=refresh_token]").check()
        page.locator("#id_homepage_uri").fill("https://printer.example/")
        page.get_by_role("button", name="Save", exact=True).click()

        client_id = page.locator("code.client-id").inner_text()
        first_secret = page.locator("code.client-secret").inner_text()
        page.get_by_role("link", name="I have copied it").click()
        page.get_by_role("link", name="Photo printer").click()
        page.screenshot(path=str(artifacts / "admin-client.png"), full_page=True)
        assert first_secret not in page.content()

        page.goto(f"{live}/admin/oauth/client/")
        page.locator("input[name=_selected_action]").first.check()
        page.locator("select[name=action]").select_option("rotate_secret")
        page.get_by_role("button", name="Go").click()
        second_secret = page.locator("code.client-secret").inner_text()

    assert second_secret != first_secret
    refreshed_with = {}
    for name, secret in (("old", first_secret), ("new", second_secret)):
        response = requests.post(
            f"{live}/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": "none-yet"},
            auth=(client_id, secret),
            timeout=10,
        )
        refreshed_with[name] = response.json()["error"]
    # The old secret no longer authenticates; the new one does (and then meets a bad token).
    assert refreshed_with == {"old": "invalid_client", "new": "invalid_grant"}


def test_naver_button_approve_at_the_fake_and_the_client_gets_a_code(
    live: str,
    upstream: Any,
    make_client: Callable[..., RegisteredClient],
    app_callback: tuple[str, list[dict[str, list[str]]]],
) -> None:
    redirect_uri, received = app_callback
    client = make_client(name="Photo printer", redirect_uris=[redirect_uri], first_party=True)
    upstream.naver.auto_approve = False
    url = live + authorize_url(client, Pkce(), state="naver-state")

    with chromium() as browser:
        page = browser.new_page(locale="ko-KR")
        page.goto(url)
        naver = page.get_by_role("button", name="네이버 로그인")
        expect(naver).to_have_css("background-color", "rgb(3, 169, 77)")
        naver.click()
        page.get_by_role("button", name="Approve as test user").click()
        expect(page.locator("#done")).to_be_visible()

    (params,) = received
    assert params["state"] == ["naver-state"] and params["code"]


def test_no_page_breaks_its_content_security_policy(
    live: str,
    upstream: Any,
    make_user: Callable[..., User],
    make_client: Callable[..., RegisteredClient],
) -> None:
    """Chromium reports every script or style the policy blocks; there must be none."""
    make_user("operator", is_staff=True, is_superuser=True)
    client = make_client(name="Photo printer")
    paths = [
        "/accounts/login/",
        authorize_url(client),
        "/accounts/",
        "/accounts/apps/",
        "/admin/",
        "/admin/oauth/client/",
        "/admin/oauth/client/add/",
        f"/admin/oauth/client/{client.model.pk}/change/",
        "/admin/events/securityevent/",
        "/admin/overview/",
        "/oauth/authorize?client_id=unknown",
        "/demo/",
    ]

    with chromium() as browser:
        page = browser.new_page()
        violations: list[str] = []
        page.on(
            "console",
            lambda message: (
                violations.append(message.text)
                if "Content Security Policy" in message.text
                else None
            ),
        )
        page.goto(f"{live}/admin/login/?next=/admin/")
        page.get_by_label("Username").fill("operator")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in", exact=True).click()
        for path in paths:
            page.goto(live + path)
            page.wait_for_load_state("networkidle")

    assert violations == []
