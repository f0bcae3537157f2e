"""An app's usage in the console: authorizations, people with active grants and token requests
per day for 30 days, as a server-rendered SVG chart and a CSV download, counted from the grants
and refresh tokens the flows record (nothing is added to the token endpoint)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta
from http import HTTPStatus
from urllib.parse import urlencode

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from accounts.models import User
from oauth.models import ClientMember, Grant
from tests.conftest import HttpsClient, RegisteredClient, authorize_url, basic_auth, query


@pytest.fixture
def app(make_client: Callable[..., RegisteredClient], user: User) -> RegisteredClient:
    client = make_client(name="Counted", kind="web", live=False)
    ClientMember.objects.create(client=client.model, user=user, role="viewer")
    return client


def authorize_and_refresh(browser: HttpClient, client: RegisteredClient) -> None:
    browser.post(authorize_url(client), {"decision": "allow"})
    code = query(browser.get(authorize_url(client))["Location"])["code"]
    auth = basic_auth(client.client_id, client.secret or "")
    form = "application/x-www-form-urlencoded"
    data = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": client.model.redirect_uris[0]}  # fmt: skip
    tokens = browser.post("/oauth/token", urlencode(data), form, HTTP_AUTHORIZATION=auth).json()
    data = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    refreshed = browser.post("/oauth/token", urlencode(data), form, HTTP_AUTHORIZATION=auth)
    assert refreshed.status_code == HTTPStatus.OK


def test_usage_counts_authorizations_people_and_token_requests_per_day(
    signed_in: HttpClient, app: RegisteredClient, user: User
) -> None:
    authorize_and_refresh(signed_in, app)
    old = Grant.objects.get()
    Grant.objects.create(
        user=user, client=app.model, scope="openid", auth_time=old.auth_time,
        created_at=timezone.now() - timedelta(days=3), expires_at=old.expires_at,
    )  # fmt: skip
    Grant.objects.create(
        user=user, client=app.model, scope="openid", auth_time=old.auth_time,
        created_at=timezone.now() - timedelta(days=31), expires_at=old.expires_at,
    )  # fmt: skip

    response = signed_in.get(f"/developers/apps/{app.client_id}/usage")

    assert response.status_code == HTTPStatus.OK
    days = response.context["days"]
    assert len(days) == 30 and days[-1].day == timezone.now().date()
    assert (days[-1].authorizations, days[-1].token_requests) == (1, 2)
    assert days[-4].authorizations == 1
    assert response.context["people"] == 1
    page = response.content.decode()
    assert page.count("<rect ") == 30 and "<polyline" in page and "<script" not in page


def test_usage_downloads_as_csv(signed_in: HttpClient, app: RegisteredClient) -> None:
    authorize_and_refresh(signed_in, app)

    response = signed_in.get(f"/developers/apps/{app.client_id}/usage.csv")

    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["date", "authorizations", "token_requests"]
    assert len(rows) == 31 and rows[-1][1:] == ["1", "2"]


def test_only_the_team_sees_usage(app: RegisteredClient, make_user: Callable[..., User]) -> None:
    outsider = HttpsClient()
    outsider.force_login(make_user("bob"))

    for path in ("usage", "usage.csv"):
        url = f"/developers/apps/{app.client_id}/{path}"
        assert outsider.get(url).status_code == HTTPStatus.NOT_FOUND
