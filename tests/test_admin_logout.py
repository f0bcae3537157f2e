"""Operators and logout: the sessions people are signed in to (ended from the admin, and the
session key never shown), and the back-channel logout tokens on their way to clients (tried
again after a client is fixed)."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from accounts.models import SignInSession, User
from events.models import SecurityEvent
from oauth.models import LogoutDelivery
from tests.conftest import PASSWORD, HttpsClient, RegisteredClient


@pytest.fixture
def operator(make_user: Callable[..., User]) -> HttpClient:
    browser = HttpsClient()
    browser.force_login(make_user("operator", is_staff=True, is_superuser=True))
    return browser


def test_an_operator_ends_a_persons_sessions(operator: HttpClient, user: User) -> None:
    person = HttpsClient()
    person.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    session = SignInSession.objects.get(user=user)

    listing = operator.get("/admin/accounts/signinsession/")
    page = operator.get(f"/admin/accounts/signinsession/{session.pk}/change/")
    assert listing.status_code == page.status_code == HTTPStatus.OK
    assert session.session_key not in page.content.decode()
    operator.post("/admin/accounts/signinsession/", {
        "action": "end_sessions", "_selected_action": [session.pk]})  # fmt: skip

    assert person.get("/accounts/").status_code == HTTPStatus.FOUND
    assert SecurityEvent.objects.filter(kind="sessions_ended", user=user).exists()


def test_an_operator_tries_a_given_up_delivery_again(
    operator: HttpClient, make_client: Callable[..., RegisteredClient], settings: Any
) -> None:
    client = make_client(backchannel_logout_uri="http://127.0.0.1:9/logout")
    delivery = LogoutDelivery.objects.create(
        client=client.model, jti="j", sub="s", sid="x", attempts=12, given_up_at=timezone.now()
    )

    assert operator.get("/admin/oauth/logoutdelivery/").status_code == HTTPStatus.OK
    operator.post("/admin/oauth/logoutdelivery/", {
        "action": "try_again", "_selected_action": [delivery.pk]})  # fmt: skip

    delivery.refresh_from_db()
    assert delivery.given_up_at is None and delivery.attempts == 0
