"""Every page people see, in headless Chromium, in English and Korean, at a phone's width
(390x844) and a desktop's (1280x900): nothing wider than the screen, Korean words kept whole
(`word-break: keep-all`), no particle set apart from its word, and the consent page's two
buttons side by side, the same size, their words on one line. Each page's screenshot goes to
tests/artifacts/pages/ to be looked at.

Database work happens before the browser runs (see test_browser.py).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client as HttpClient
from playwright.sync_api import Browser, BrowserContext, Page

from accounts.models import User
from oauth.models import Client
from tests.conftest import PASSWORD, RegisteredClient, authorize_url
from tests.test_browser import chromium
from tests.test_korean_text import DETACHED_ON_PAGE

ARTIFACTS = Path(__file__).parent / "artifacts" / "pages"
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
LOCALES = {"en": "en-US", "ko": "ko-KR"}
NAMES = {"en": "English", "ko": "한국어"}
# The current language's look: bold, underlined, opaque, and not a disabled control.
CURRENT_LOOK = """e => {
  const look = getComputedStyle(e);
  return [Number(look.fontWeight), look.textDecorationLine, look.opacity, e.matches(":disabled")];
}"""
SIGNED_OUT = {"en": "You have been signed out.", "ko": "로그아웃했습니다."}
# How many lines a button's words take, and where they end (at one size, their baseline).
WORDS = """b => {
  const range = document.createRange(); range.selectNodeContents(b);
  const lines = new Set([...range.getClientRects()].map(r => Math.round(r.bottom)));
  return [lines.size, range.getBoundingClientRect().bottom];
}"""
# An app of the person's own in the developer console, with a long address to wrap.
CONSOLE_APP = {
    "name": "Recipe box",
    "kind": "web",
    "redirect_uris": "https://recipes.example/oauth/callback/with/a/rather/long/path/to/wrap",
    "allowed_scopes": ["openid", "profile"],
    "homepage_uri": "https://recipes.example/",
    "privacy_policy_uri": "https://recipes.example/privacy",
    "terms_uri": "",
}
TOO_MANY_FIELDS = "&".join(f"f{number}=1" for number in range(1500))


@pytest.fixture
def failing(live: str, settings: Any) -> str:
    settings.ROOT_URLCONF = "tests.failing_urls"
    return live


def context(browser: Browser, language: str, size: str) -> BrowserContext:
    return browser.new_context(locale=LOCALES[language], viewport=SIZES[size])  # type: ignore[arg-type]


def sign_in(page: Page, live: str, username: str = "alice") -> None:
    page.goto(f"{live}/accounts/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button.primary").click()
    page.wait_for_url(re.compile(r"/accounts/$"))


def look(page: Page, name: str, language: str, size: str) -> None:
    """The checks every page passes, and its screenshot."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}-{language}-{size}.png"), full_page=True)
    where = f"{name} ({language}, {size})"
    assert page.evaluate("document.documentElement.lang") == language, where
    overflow = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{where} is {overflow}px wider than the screen"
    for selector in ("body", "h1"):
        style = page.eval_on_selector(selector, "e => getComputedStyle(e).wordBreak")
        assert style == "keep-all", where
    wrap = page.eval_on_selector("body", "e => getComputedStyle(e).overflowWrap")
    assert wrap == "anywhere", where
    if language == "ko":
        assert DETACHED_ON_PAGE.findall(page.inner_text("body")) == [], where


@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_signed_in_pages_fit_and_keep_korean_words_whole(
    live: str,
    user: User,
    make_client: Callable[..., RegisteredClient],
    exchange: Callable[..., dict[str, Any]],
    signed_in: HttpClient,
    language: str,
) -> None:
    client = make_client(name="Demo client")
    exchange(client, scope="openid email")
    consent = authorize_url(client, scope="openid profile email")
    unreleased = make_client(name="Unreleased app", live=False)
    signed_in.post("/developers/new", CONSOLE_APP)
    console_app = "/developers/apps/" + Client.objects.get(name=CONSOLE_APP["name"]).client_id
    pages = {
        "account": "/accounts/",
        "connected-apps": "/accounts/apps/",
        "consent": consent,
        "authorize-error": "/oauth/authorize?client_id=unknown",
        "in-development": authorize_url(unreleased),
        "console": "/developers/",
        "console-new": "/developers/new",
        "console-app": f"{console_app}/",
        "console-usage": f"{console_app}/usage",
    }

    with chromium() as browser:
        for size in SIZES:
            with context(browser, language, size) as tab:
                page = tab.new_page()
                sign_in(page, live)
                for name, path in pages.items():
                    page.goto(live + path)
                    look(page, name, language, size)
                page.goto(f"{live}/accounts/")
                page.locator("form[action='/accounts/logout/'] button").click()
                page.wait_for_url(re.compile(r"/accounts/login/$"))
                assert page.inner_text("[role=status]") == SIGNED_OUT[language]
                look(page, "signed-out", language, size)


@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_sign_in_page_fits_and_keeps_korean_words_whole(
    live: str, db: None, language: str
) -> None:
    with chromium() as browser:
        for size in SIZES:
            with context(browser, language, size) as tab:
                page = tab.new_page()
                page.goto(f"{live}/accounts/login/")
                look(page, "sign-in", language, size)
                current = page.locator(".language [aria-current=true]")
                assert current.inner_text() == NAMES[language]
                assert current.evaluate(CURRENT_LOOK) == [700, "underline", "1", False]
                assert page.locator(".language button:disabled").count() == 0
        with context(browser, language, "phone") as tab:
            page = tab.new_page()
            page.goto(f"{live}/accounts/login/")
            other = "ko" if language == "en" else "en"
            page.locator(".language button").click()
            page.wait_for_function(f"document.documentElement.lang === '{other}'")
            assert page.locator(".language [aria-current=true]").inner_text() == NAMES[other]


@pytest.mark.parametrize("language", ["en", "ko"])
def test_sign_in_with_providers_and_their_failure_page_fit(
    live: str, upstream: Any, language: str
) -> None:
    upstream.naver.auto_approve = False

    with chromium() as browser:
        for size in SIZES:
            with context(browser, language, size) as tab:
                page = tab.new_page()
                page.goto(f"{live}/accounts/login/")
                look(page, "sign-in-providers", language, size)
                page.locator("button.provider-naver").click()
                page.get_by_role("button", name="Cancel").click()
                page.locator("[data-reason=denied]").wait_for()
                look(page, "provider-cancelled", language, size)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("language", ["en", "ko"])
def test_allow_and_deny_line_up(
    live: str,
    user: User,
    make_client: Callable[..., RegisteredClient],
    language: str,
    size: str,
) -> None:
    client = make_client(name="Demo client")

    with chromium() as browser, context(browser, language, size) as tab:
        page = tab.new_page()
        sign_in(page, live)
        page.goto(live + authorize_url(client, scope="openid profile email"))
        allow = page.locator("button[value=allow]")
        deny = page.locator("button[value=deny]")
        boxes = [button.bounding_box() for button in (allow, deny)]
        words = [button.evaluate(WORDS) for button in (allow, deny)]
        fonts = [button.evaluate("b => getComputedStyle(b).fontSize") for button in (allow, deny)]

    (a, d) = boxes
    assert a is not None and d is not None
    assert abs(a["height"] - d["height"]) < 0.5
    assert abs(a["y"] - d["y"]) < 0.5  # side by side, on one row
    assert abs(a["width"] - d["width"]) < 1  # each half of the row
    assert d["x"] + d["width"] <= a["x"]  # Deny first, then Allow
    assert a["x"] + a["width"] <= SIZES[size]["width"]
    assert words[0][0] == words[1][0] == 1  # each label on one line
    assert abs(words[0][1] - words[1][1]) < 0.5
    assert fonts[0] == fonts[1]


@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_error_pages_are_ours_at_both_widths(
    failing: str, make_user: Callable[..., User], language: str
) -> None:
    make_user("alice")
    live = failing
    headings = {
        "en": {
            "400": "This request cannot be handled",
            "403-admin": "You do not have access to this page",
            "403-csrf": "This form has expired",
            "404": "Page not found",
            "500": "Something went wrong on our side",
        },
        "ko": {
            "400": "요청을 처리할 수 없습니다",
            "403-admin": "이 페이지에 접근할 권한이 없습니다",
            "403-csrf": "양식이 만료되었습니다",
            "404": "페이지를 찾을 수 없습니다",
            "500": "서버에 문제가 생겼습니다",
        },
    }[language]

    with chromium() as browser:
        for size in SIZES:
            with context(browser, language, size) as tab:
                page = tab.new_page()
                seen: dict[str, str] = {}

                answer = page.goto(f"{live}/no/such/page")
                assert answer is not None and answer.status == 404
                look(page, "error-404", language, size)
                seen["404"] = page.inner_text("h1")

                answer = page.goto(f"{live}/accounts/login/?{TOO_MANY_FIELDS}")
                assert answer is not None and answer.status == 400
                look(page, "error-400", language, size)
                seen["400"] = page.inner_text("h1")

                page.goto(f"{live}/accounts/login/")
                tab.clear_cookies()
                page.locator("input[name=username]").fill("alice")
                page.locator("input[name=password]").fill(PASSWORD)
                page.locator("form button.primary").click()
                look(page, "error-403-csrf", language, size)
                seen["403-csrf"] = page.inner_text("h1")

                sign_in(page, live)
                answer = page.goto(f"{live}/admin/")
                assert answer is not None and answer.status == 403
                look(page, "error-403-admin", language, size)
                seen["403-admin"] = page.inner_text("h1")

                answer = page.goto(f"{live}/database-down")
                assert answer is not None and answer.status == 500
                look(page, "error-500", language, size)
                seen["500"] = page.inner_text("h1")

                page.goto(f"{live}/admin/")
                page.locator(".ways-back button").click()  # sign out: the way out of the admin
                page.wait_for_url(re.compile(r"/accounts/login/"))
                assert page.locator("input[name=password]").is_visible()

                assert seen == headings


def test_the_demo_app_fits_and_its_sign_in_speaks_its_language(live: str, user: User) -> None:
    call_command("setupdemo", "--port", live.rsplit(":", 1)[1], stdout=io.StringIO())
    sign_in_heading = {"en": "Sign in", "ko": "로그인"}

    with chromium() as browser:
        for language in LOCALES:
            for size in SIZES:
                with context(browser, language, size) as tab:
                    page = tab.new_page()
                    page.goto(f"{live}/demo/")
                    look(page, "demo", language, size)
                    page.locator("#demo-sign-in").click()
                    assert page.inner_text("h1") == sign_in_heading[language]
                    page.locator("input[name=username]").fill("alice")
                    page.locator("input[name=password]").fill(PASSWORD)
                    page.locator("form button.primary").click()
                    page.wait_for_url(re.compile(r"^[^?]*/(demo/|oauth/authorize)"))
                    if page.locator("button[value=allow]").count():
                        page.locator("button[value=allow]").click()
                    page.locator("#demo-userinfo").wait_for()
                    look(page, "demo-tokens", language, size)


@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_admin_keeps_korean_words_whole(
    live: str, make_user: Callable[..., User], language: str
) -> None:
    make_user("operator", is_staff=True, is_superuser=True)

    with chromium() as browser, context(browser, language, "desktop") as tab:
        page = tab.new_page()
        sign_in(page, live, "operator")
        for path in ("/admin/", "/admin/oauth/client/add/"):
            page.goto(live + path)
            assert page.eval_on_selector("body", "e => getComputedStyle(e).wordBreak") == (
                "keep-all"
            )
        page.screenshot(path=str(ARTIFACTS / f"admin-client-add-{language}.png"), full_page=True)
