"""Client secret rotation with overlap: the previous secret keeps working for a chosen period
(at most seven days, at most two secrets at once), then stops; a security event each time.
Client authentication (RFC 6749 §2.3.1) is checked at the introspection endpoint."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from http import HTTPStatus
from urllib.parse import urlencode

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from accounts.models import User
from events.models import SecurityEvent
from oauth.clients import client_secret_rotate
from oauth.models import ClientMember
from tests.conftest import HttpsClient, RegisteredClient, basic_auth


def authenticates(client: RegisteredClient, secret: str) -> bool:
    response = HttpsClient().post(
        "/oauth/introspect",
        urlencode({"token": "not-a-token"}),
        "application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic_auth(client.client_id, secret),
    )
    assert response.status_code in (HTTPStatus.OK, HTTPStatus.UNAUTHORIZED)
    return response.status_code == HTTPStatus.OK


def overlap_ends(client: RegisteredClient) -> None:
    client.change(previous_secret_expires_at=timezone.now() - timedelta(seconds=1))


def test_without_overlap_the_old_secret_stops_at_once(
    confidential_client: RegisteredClient,
) -> None:
    old = confidential_client.secret or ""
    new = client_secret_rotate(confidential_client.model)

    assert authenticates(confidential_client, new)
    assert not authenticates(confidential_client, old)


def test_with_overlap_both_work_until_it_ends(confidential_client: RegisteredClient) -> None:
    old = confidential_client.secret or ""
    new = client_secret_rotate(confidential_client.model, overlap=timedelta(days=1))

    assert authenticates(confidential_client, old) and authenticates(confidential_client, new)
    overlap_ends(confidential_client)
    assert authenticates(confidential_client, new)
    assert not authenticates(confidential_client, old)
    assert not authenticates(confidential_client, "guess")


def test_at_most_two_secrets_work(confidential_client: RegisteredClient) -> None:
    first = confidential_client.secret or ""
    second = client_secret_rotate(confidential_client.model, overlap=timedelta(days=1))
    third = client_secret_rotate(confidential_client.model, overlap=timedelta(days=1))

    assert [authenticates(confidential_client, s) for s in (first, second, third)] == [
        False, True, True,
    ]  # fmt: skip


@pytest.mark.parametrize("overlap", [timedelta(days=7, seconds=1), timedelta(seconds=-1)])
def test_the_overlap_is_at_most_seven_days(
    confidential_client: RegisteredClient, overlap: timedelta
) -> None:
    with pytest.raises(ValueError):
        client_secret_rotate(confidential_client.model, overlap=overlap)


def test_each_rotation_is_a_security_event(confidential_client: RegisteredClient) -> None:
    client_secret_rotate(confidential_client.model, overlap=timedelta(hours=1))
    client_secret_rotate(confidential_client.model)

    details = SecurityEvent.objects.filter(kind="client_secret_rotated").order_by("created_at")
    assert [event.detail["overlap"] for event in details] == [3600, 0]


def test_the_team_rotates_in_the_console_with_overlap(
    signed_in: HttpClient,
    user: User,
    make_user: Callable[..., User],
    make_client: Callable[..., RegisteredClient],
) -> None:
    client = make_client(kind="web", live=False)
    ClientMember.objects.create(client=client.model, user=user, role="developer")
    old = client.secret or ""
    url = f"/developers/apps/{client.client_id}/secret"

    response = signed_in.post(url, {"overlap": "86400"})

    assert response.status_code == HTTPStatus.OK
    assert response["Cache-Control"] == "no-store"
    new = response.context["secret"]
    assert authenticates(client, old) and authenticates(client, new)
    page = signed_in.get(f"/developers/apps/{client.client_id}/").content.decode()
    assert "data-overlap" in page and new not in page

    viewer = make_user("vic")
    ClientMember.objects.create(client=client.model, user=viewer, role="viewer")
    other = HttpsClient()
    other.force_login(viewer)
    assert other.post(url, {"overlap": "0"}).status_code == HTTPStatus.NOT_FOUND
    assert signed_in.post(url, {"overlap": str(8 * 86400)}).status_code == HTTPStatus.NOT_FOUND
