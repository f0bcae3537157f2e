"""The operator's overview in the admin: thirty days of sign-ins by method, tokens issued,
failed and held-back sign-ins, refresh token reuse and the busiest clients, as SVG drawn on the
server (the admin's strict CSP holds), counted by PostgreSQL in a fixed number of queries, in
English and Korean, under the server's own name."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.test import Client as HttpClient
from django.utils import timezone

from accounts.models import User
from authserver.middleware import CONTENT_SECURITY_POLICY
from events.models import SecurityEvent
from events.overview import overview_compute
from tests.conftest import PASSWORD, HttpsClient, RegisteredClient
from tests.test_browser import chromium

Kind = SecurityEvent.Kind


@pytest.fixture
def events(make_client: Callable[..., RegisteredClient], user: User) -> dict[str, Any]:
    """A month of events: today, three days ago, and some older than the thirty days."""
    busy, quiet = make_client(name="Busy app"), make_client(name="Quiet app")
    now = timezone.now()
    rows = []

    def add(kind: str, count: int, days_ago: int, client: Any = None, **detail: Any) -> None:
        for _ in range(count):
            at = now - timedelta(days=days_ago)
            row = client and client.model
            rows.append(
                SecurityEvent(kind=kind, user=user, client=row, created_at=at, detail=detail)
            )

    add(Kind.SIGN_IN, 5, 0, method="password")
    add(Kind.SIGN_IN, 3, 0, method="google")
    add(Kind.SIGN_IN, 2, 3, method="kakao")
    add(Kind.SIGN_IN, 1, 3, method="naver")
    add(Kind.SIGN_IN, 7, 40, method="password")  # too old
    add(Kind.SIGN_IN_FAILED, 4, 3, method="password")
    add(Kind.RATE_LIMITED, 2, 3, limit="sign_in_account")
    add(Kind.RATE_LIMITED, 9, 3, limit="token_client")  # not a sign-in held back
    add(Kind.TOKENS_ISSUED, 6, 0, busy)
    add(Kind.TOKENS_REFRESHED, 10, 3, busy)
    add(Kind.TOKENS_ISSUED, 2, 3, quiet)
    add(Kind.REFRESH_TOKEN_REUSED, 1, 3, busy)
    SecurityEvent.objects.bulk_create(rows)
    return {"busy": busy, "quiet": quiet}


def test_the_overview_counts_thirty_days_by_day(events: dict[str, Any]) -> None:
    found = overview_compute()

    assert len(found.days) == 30 and found.days[-1] == timezone.now().date()
    assert found.sign_ins["password"][-1] == 5 and sum(found.sign_ins["password"]) == 5
    assert found.sign_ins["google"][-1] == 3
    assert found.sign_ins["kakao"][-4] == 2 and found.sign_ins["naver"][-4] == 1
    assert found.sign_ins_failed[-4] == 4 and sum(found.sign_ins_failed) == 4
    assert sum(found.sign_ins_held) == 2
    assert found.tokens_issued[-1] == 6 and found.tokens_issued[-4] == 2
    assert sum(found.tokens_refreshed) == 10
    assert sum(found.refresh_reuse) == 1
    assert found.top_clients == [
        ("Busy app", events["busy"].client_id, 16),
        ("Quiet app", events["quiet"].client_id, 2),
    ]


@pytest.fixture
def operator(make_user: Callable[..., User]) -> HttpClient:
    browser = HttpsClient()
    browser.force_login(make_user("operator", is_staff=True, is_superuser=True))
    return browser


def charts(page: str) -> list[str]:
    return re.findall(r"<svg.*?</svg>", page, flags=re.S)


def test_the_overview_page_draws_svg_charts_in_a_fixed_number_of_queries(
    operator: HttpClient, events: dict[str, Any], django_assert_num_queries: Any
) -> None:
    # The signed-in person (the session is in the cache); the day counts and the clients' token
    # counts of the days before today, then of today; the busiest clients' names.
    with django_assert_num_queries(6 if settings.REDIS_URL else 7):
        response = operator.get("/admin/overview/")
    # The days before today, once counted, are not counted again that day.
    with django_assert_num_queries(4 if settings.REDIS_URL else 5):
        again = operator.get("/admin/overview/")
    assert charts(again.content.decode()) == charts(response.content.decode())

    page = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert page.count('<svg class="bars"') == 4
    assert page.count('<rect class="series-password"') == 1
    assert "<title>" in page and "Busy app" in page
    assert "<script>" not in page and " style=" not in page


def test_the_admin_links_to_the_overview_and_carries_the_servers_name(
    operator: HttpClient, settings: Any
) -> None:
    settings.SERVER_NAME = "Example Accounts"

    page = operator.get("/admin/").content.decode()

    assert 'href="/admin/overview/"' in page
    assert "Example Accounts" in page
    assert "Django administration" not in page


def test_staff_who_may_not_read_security_events_are_refused(
    make_user: Callable[..., User],
) -> None:
    browser = HttpsClient()
    staff = make_user("helper", is_staff=True)
    browser.force_login(staff)

    assert browser.get("/admin/overview/").status_code == 403
    assert 'href="/admin/overview/"' not in browser.get("/admin/").content.decode()

    staff.user_permissions.add(Permission.objects.get(codename="view_securityevent"))
    assert browser.get("/admin/overview/").status_code == 200


def test_the_overview_in_korean(operator: HttpClient, events: dict[str, Any]) -> None:
    page = operator.get("/admin/overview/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()

    assert "방법별 하루 로그인" in page
    assert "Sign-ins per day" not in page


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("locale", "heading"), [("en-US", "Sign-ins per day, by method"),
                                                 ("ko-KR", "방법별 하루 로그인")])  # fmt: skip
def test_an_operator_sees_the_charts_in_chromium(
    live: str, events: dict[str, Any], make_user: Callable[..., User], locale: str, heading: str
) -> None:
    make_user("operator", is_staff=True, is_superuser=True)
    artifacts = Path(__file__).parent / "artifacts"
    artifacts.mkdir(exist_ok=True)

    with chromium() as browser:
        page = browser.new_context(
            locale=locale, viewport={"width": 1200, "height": 900}
        ).new_page()
        violations: list[str] = []
        page.on("console", lambda message: violations.append(message.text))
        page.goto(f"{live}/admin/login/?next=/admin/overview/")
        page.locator("input[name=username]").fill("operator")
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("form button[type=submit]").first.click()
        page.wait_for_url("**/admin/overview/")
        assert page.get_by_role("heading", name=heading).is_visible()
        bars = page.locator("svg.bars rect")
        assert bars.count() >= 8
        box = bars.first.bounding_box()
        assert box is not None and box["height"] > 0 and box["width"] > 0
        page.screenshot(path=str(artifacts / f"admin-overview-{locale}.png"), full_page=True)

    assert [text for text in violations if "Content Security Policy" in text] == []
