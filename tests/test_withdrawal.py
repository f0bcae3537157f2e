"""Withdrawal (회원탈퇴) at /accounts/delete/: after a fresh sign-in, with the consequences said
first; every grant, code, consent and session ends (apps are told by back-channel logout), the
identities go and Kakao is told through its unlink API, personal data is erased, security
events keep a pseudonym only, and the username and email are free again."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

import time_machine
from django.test import Client as HttpClient

from accounts.models import ProviderUnlink, SignInSession, SocialIdentity, User
from accounts.unlinks import provider_unlinks_run
from events.models import SecurityEvent
from oauth.models import AuthorizationCode, Consent, Grant, LogoutDelivery
from tests.conftest import PASSWORD, HttpsClient, RegisteredClient
from tests.test_upstream_login import sign_in_with

CONFIRM = {"confirm": "delete"}


def test_the_page_says_what_happens_before_anything_does(signed_in: HttpClient) -> None:
    page = signed_in.get("/accounts/delete/")

    assert page.status_code == HTTPStatus.OK
    text = page.content.decode()
    assert "cannot be undone" in text and "become free" in text
    unticked = signed_in.post("/accounts/delete/", {})
    assert unticked.status_code == HTTPStatus.OK and "Tick the box" in unticked.content.decode()
    assert User.objects.exists()


def test_withdrawal_needs_a_fresh_sign_in(signed_in: HttpClient) -> None:
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=11)):
        response = signed_in.post("/accounts/delete/", CONFIRM)

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/accounts/login/?next=/accounts/delete/")
    assert User.objects.exists()


def test_withdrawal_ends_everything_and_frees_the_name_and_address(
    signed_in: HttpClient, user: User, make_client: Callable[..., RegisteredClient],
    exchange: Callable[..., dict[str, Any]], token_request: Callable[..., Any],
    obtain_code: Callable[..., str],
) -> None:  # fmt: skip
    client = make_client(backchannel_logout_uri="http://127.0.0.1:9/logout")
    tokens = exchange(client)
    obtain_code(client)  # a code not exchanged yet
    elsewhere = HttpsClient()
    elsewhere.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    user_id = user.pk

    response = signed_in.post("/accounts/delete/", CONFIRM)

    assert response.status_code == HTTPStatus.OK
    assert "is deleted" in response.content.decode()
    assert not User.objects.filter(pk=user_id).exists()
    for model in (Grant, AuthorizationCode, Consent, SignInSession, SocialIdentity):
        assert not model.objects.exists(), model
    assert elsewhere.get("/accounts/").status_code == HTTPStatus.FOUND
    refreshed = token_request(
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(client.client_id, client.secret),
    )
    assert refreshed.status_code == HTTPStatus.BAD_REQUEST
    assert LogoutDelivery.objects.filter(client=client.model).count() == 1  # the app is told
    events = SecurityEvent.objects.all()
    assert not events.filter(user__isnull=False).exists()
    deleted = events.get(kind="account_deleted")
    assert len(deleted.pseudonym) == 32
    theirs = events.filter(kind__in=["sign_in", "tokens_issued", "sessions_ended"])
    assert theirs.count() >= 4
    assert set(theirs.values_list("pseudonym", flat=True)) == {deleted.pseudonym}
    fresh = "a fresh and long passphrase"
    again = HttpsClient().post(
        "/accounts/signup/",
        {"email": "alice@example.com", "password1": fresh, "password2": fresh},
    )
    assert again.status_code == HTTPStatus.OK
    assert User.objects.filter(email="alice@example.com").exists()


def test_kakao_is_told_through_its_unlink_api(browser: HttpClient, upstream: Any) -> None:
    sign_in_with(browser, "kakao")
    session = browser.session
    session["credentials_time"] = time.time()  # as if Kakao had been asked to sign in again
    session.save()

    browser.post("/accounts/delete/", CONFIRM)
    assert ProviderUnlink.objects.count() == 1
    assert provider_unlinks_run() == 1

    (call,) = [r for r in upstream.kakao.requests if r.path == "/kakao/v1/user/unlink"]
    assert call.headers["authorization"] == f"KakaoAK {upstream.kakao.admin_key}"
    assert call.form == {"target_id_type": "user_id", "target_id": str(upstream.kakao.user["id"])}
    assert ProviderUnlink.objects.get().delivered_at is not None


def test_without_an_admin_key_kakao_is_not_called(
    browser: HttpClient, upstream: Any, settings: Any
) -> None:
    settings.KAKAO_ADMIN_KEY = ""
    sign_in_with(browser, "kakao")
    session = browser.session
    session["credentials_time"] = time.time()
    session.save()

    browser.post("/accounts/delete/", CONFIRM)

    assert not User.objects.exists() and not ProviderUnlink.objects.exists()


def test_a_kakao_that_refuses_is_tried_again_later(browser: HttpClient, upstream: Any,
                                                   settings: Any) -> None:  # fmt: skip
    sign_in_with(browser, "kakao")
    session = browser.session
    session["credentials_time"] = time.time()
    session.save()
    browser.post("/accounts/delete/", CONFIRM)
    settings.KAKAO_ADMIN_KEY = "wrong"

    assert provider_unlinks_run() == 0

    unlink = ProviderUnlink.objects.get()
    assert unlink.attempts == 1 and unlink.last_error == "HTTP 401"
