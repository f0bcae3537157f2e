"""The developer console in a real browser (headless Chromium), on a phone in English and on a
desktop in Korean: register an app, add a tester, rotate its secret with overlap (both secrets
work, then only the new one), request review, approve it in the admin, see the usage chart.

Database work happens before and after the browser runs (see test_browser.py); in between,
only HTTP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import User
from developers.models import ReviewRequest
from developers.reviews import review_decide, review_request
from developers.services import app_create
from oauth.models import Client, ClientMember
from tests.conftest import PASSWORD, authorize_url
from tests.conftest import RegisteredClient as Registered
from tests.test_browser import chromium
from tests.test_page_layout import SIZES, context, look
from tests.test_page_layout import sign_in as layout_sign_in

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def sign_in(page: Page, live: str, path: str, username: str) -> None:
    page.goto(f"{live}{path}")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]").first.click()


def authenticates(live: str, client_id: str, secret: str) -> bool:
    response = requests.post(
        f"{live}/oauth/introspect", data={"token": "x"}, auth=(client_id, secret), timeout=10
    )
    return response.status_code == 200


def fits(page: Page) -> None:
    """Nothing wider than the screen: no sideways scrolling on a phone."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize(
    ("locale", "viewport", "register_heading"),
    [("en-US", PHONE, "Register an app"), ("ko-KR", DESKTOP, "앱 등록")],
)
def test_the_console_from_registration_to_review_and_usage(
    live: str,
    user: User,
    make_user: Callable[..., User],
    locale: str,
    viewport: dict[str, int],
    register_heading: str,
) -> None:
    make_user("tess")
    make_user("operator", is_staff=True, is_superuser=True)
    artifacts = Path(__file__).parent / "artifacts"
    artifacts.mkdir(exist_ok=True)

    with chromium() as browser:
        page = browser.new_context(locale=locale, viewport=viewport).new_page()  # type: ignore[arg-type]
        sign_in(page, live, "/developers/", user.username)
        page.locator("a[href='/developers/new']").click()
        expect(page.locator("h1")).to_have_text(register_heading)
        page.locator("#id_name").fill("Browser app")
        page.locator("input[name=kind][value=web]").check()
        page.locator("#id_redirect_uris").fill("https://browser.example/callback")
        page.locator("input[name=allowed_scopes][value=profile]").check()
        page.locator("#id_privacy_policy_uri").fill("https://browser.example/privacy")
        fits(page)
        page.locator("form.app-form button[type=submit]").click()

        client_id = page.locator("[data-client-id]").inner_text().strip()
        first = page.locator("[data-secret]").inner_text().strip()
        page.locator(f"a[href='/developers/apps/{client_id}/']").click()

        page.locator("#id_identifier").fill("tess@example.com")
        page.locator("form.member-form select[name=role]").select_option("tester")
        page.locator("form.member-form button[type=submit]").click()
        expect(page.locator("tr[data-member=tess]")).to_be_visible()

        page.locator("form.rotate-form select[name=overlap]").select_option("86400")
        page.locator("form.rotate-form button[type=submit]").click()
        second = page.locator("[data-secret]").inner_text().strip()
        assert second != first
        assert authenticates(live, client_id, first) and authenticates(live, client_id, second)
        page.goto(f"{live}/developers/apps/{client_id}/")
        expect(page.locator("[data-overlap]")).to_be_visible()

        page.locator("form.review-form button[type=submit]").click()
        expect(page.locator("section[data-review=pending]")).to_be_visible()
        fits(page)
        page.screenshot(path=str(artifacts / f"console-app-{locale}.png"), full_page=True)

        operator = browser.new_context(viewport=DESKTOP).new_page()  # type: ignore[arg-type]
        sign_in(operator, live, "/admin/", "operator")
        operator.goto(f"{live}/admin/developers/reviewrequest/?state__exact=pending")
        operator.get_by_role("link", name="Browser app").first.click()
        operator.locator("select[name=decision]").select_option("approve")
        operator.locator("input[name=_save]").click()
        expect(operator.locator(".messagelist")).to_be_visible()

        page.goto(f"{live}/developers/apps/{client_id}/")
        expect(page.locator("section[data-review=approved]")).to_be_visible()
        page.locator(f"a[href='/developers/apps/{client_id}/usage']").click()
        expect(page.locator("svg.chart")).to_be_visible()
        assert page.locator("svg.chart rect").count() == 30
        fits(page)
        page.screenshot(path=str(artifacts / f"console-usage-{locale}.png"), full_page=True)

    client = Client.objects.get(client_id=client_id)
    assert client.live and ReviewRequest.objects.get().state == "approved"
    assert client.members.get(user__username="tess").role == "tester"
    client.previous_secret_expires_at = timezone.now() - timedelta(seconds=1)
    client.save()
    assert authenticates(live, client_id, second)
    assert not authenticates(live, client_id, first)


@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_console_pages_fit_and_keep_korean_words_whole(
    live: str,
    user: User,
    make_user: Callable[..., User],
    exchange: Callable[..., dict[str, Any]],
    language: str,
) -> None:
    """Every page of the console, and the pages an app in development shows people, pass the
    checks of test_page_layout at a phone's width and a desktop's."""
    app, _secret = app_create(
        Client(name="Layout app", kind="web", redirect_uris=["https://layout.example/cb"],
               allowed_scopes="openid profile", privacy_policy_uri="https://layout.example/p"),
        owner_id=user.pk,
    )  # fmt: skip
    ClientMember.objects.create(client=app, user=make_user("tess"), role="tester")
    make_user("bob")
    review_request(client=app, user_id=user.pk, note="Please")
    review = ReviewRequest.objects.get()
    review_decide(review, approve=False, reason="The privacy policy is missing.", actor_id=None)
    exchange(Registered(app, _secret), scope="openid profile")
    base = f"/developers/apps/{app.client_id}"
    pages = {
        "console-list": "/developers/",
        "console-new": "/developers/new",
        "console-app": f"{base}/",
        "console-usage": f"{base}/usage",
        "console-delete": f"{base}/delete",
        "consent-in-development": authorize_url(
            Registered(app, _secret), scope="openid profile", prompt="consent"
        ),
    }

    with chromium() as browser:
        for size in SIZES:
            with context(browser, language, size) as tab:
                page = tab.new_page()
                layout_sign_in(page, live)
                for name, path in pages.items():
                    page.goto(live + path)
                    look(page, name, language, size)
            with context(browser, language, size) as tab:
                page = tab.new_page()
                layout_sign_in(page, live, "bob")
                page.goto(live + authorize_url(Registered(app, _secret), scope="openid profile"))
                look(page, "in-development", language, size)
