"""Review before going live: the team asks from the console, operators see the queue in the
admin and approve (the app goes live for everyone) or reject with a reason the team sees."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus

import pytest
from django.test import Client as HttpClient

from accounts.models import User
from developers.models import ReviewRequest
from oauth.models import Client, ClientMember
from tests.conftest import HttpsClient, RegisteredClient, authorize_url


@pytest.fixture
def draft(make_client: Callable[..., RegisteredClient], user: User) -> RegisteredClient:
    client = make_client(name="Draft app", kind="web", live=False)
    ClientMember.objects.create(client=client.model, user=user, role="owner")
    return client


@pytest.fixture
def operator(make_user: Callable[..., User]) -> HttpClient:
    browser = HttpsClient()
    browser.force_login(make_user("operator", is_staff=True, is_superuser=True))
    return browser


def ask(browser: HttpClient, client: RegisteredClient, note: str = "") -> None:
    browser.post(f"/developers/apps/{client.client_id}/review", {"note": note})


def test_the_team_asks_once(signed_in: HttpClient, draft: RegisteredClient) -> None:
    ask(signed_in, draft, "Please look")
    ask(signed_in, draft)

    review = ReviewRequest.objects.get()
    assert (review.state, review.note) == ("pending", "Please look")
    page = signed_in.get(f"/developers/apps/{draft.client_id}/").content.decode()
    assert 'data-review="pending"' in page


def test_viewers_cannot_ask(signed_in: HttpClient, draft: RegisteredClient, user: User) -> None:
    ClientMember.objects.filter(client=draft.model, user=user).update(role="viewer")
    response = signed_in.post(f"/developers/apps/{draft.client_id}/review", {"note": ""})

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert not ReviewRequest.objects.exists()


def test_approval_makes_the_app_live_for_everyone(
    signed_in: HttpClient,
    draft: RegisteredClient,
    operator: HttpClient,
    make_user: Callable[..., User],
) -> None:
    ask(signed_in, draft)
    review = ReviewRequest.objects.get()
    outsider = HttpsClient()
    outsider.force_login(make_user("bob"))
    assert outsider.get(authorize_url(draft)).status_code == HTTPStatus.FORBIDDEN

    queue = operator.get("/admin/developers/reviewrequest/?state__exact=pending")
    assert "Draft app" in queue.content.decode()
    response = operator.post(
        f"/admin/developers/reviewrequest/{review.pk}/change/",
        {"decision": "approve", "reason": ""},
    )

    assert response.status_code == HTTPStatus.FOUND
    assert Client.objects.get(pk=draft.model.pk).live
    assert outsider.get(authorize_url(draft)).status_code == HTTPStatus.OK
    review.refresh_from_db()
    assert review.state == "approved" and review.decided_by is not None


def test_rejection_needs_a_reason_the_team_sees(
    signed_in: HttpClient, draft: RegisteredClient, operator: HttpClient
) -> None:
    ask(signed_in, draft)
    review = ReviewRequest.objects.get()
    url = f"/admin/developers/reviewrequest/{review.pk}/change/"

    assert operator.post(url, {"decision": "reject", "reason": ""}).status_code == HTTPStatus.OK
    operator.post(url, {"decision": "reject", "reason": "The privacy policy link is broken."})

    assert not Client.objects.get(pk=draft.model.pk).live
    page = signed_in.get(f"/developers/apps/{draft.client_id}/").content.decode()
    assert 'data-review="rejected"' in page
    assert "The privacy policy link is broken." in page
    ask(signed_in, draft)  # and may ask again
    assert ReviewRequest.objects.filter(state="pending").count() == 1


def test_a_decision_is_taken_once(
    signed_in: HttpClient, draft: RegisteredClient, operator: HttpClient
) -> None:
    ask(signed_in, draft)
    review = ReviewRequest.objects.get()
    url = f"/admin/developers/reviewrequest/{review.pk}/change/"
    operator.post(url, {"decision": "reject", "reason": "No."})

    operator.post(url, {"decision": "approve", "reason": ""})

    assert not Client.objects.get(pk=draft.model.pk).live
