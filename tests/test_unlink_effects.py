"""What an unlink from Kakao or Naver does (issue 18, item 3), over real HTTP against the
loopback fakes: every session that signed in through the identity ends as a sign-out does (the
apps are told by back-channel logout); an account left with no way to sign in loses its grants
and consents, so an app's refresh token fails, and its page tells the person how to get back
in; a forged notice ends nothing."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
import requests
from django.test import Client as HttpClient

from accounts.models import SignInSession, SocialIdentity, UnlinkNotice, User
from events.models import SecurityEvent
from oauth.models import Consent, Grant, LogoutDelivery
from tests.conftest import PASSWORD, HttpsClient, RegisteredClient, authorize_url, query
from tests.test_upstream_login import sign_in_with

PROVIDERS = ["kakao", "naver"]
REASONS = {"kakao": "UNLINK_FROM_APPS", "naver": "CONSENT_WITHDRAWN"}


def unlink_sent(upstream: Any, live: str, provider: str, **forged: str) -> int:
    """The provider's notice that the fake's person unlinked us; the status we answered."""
    url = f"{live}/accounts/unlink/{provider}/"
    if provider == "kakao":
        return int(upstream.kakao.send_unlink(url, **forged))
    form = upstream.naver.unlink_form()
    return int(upstream.naver.send_unlink(url, {**form, **forged}))


def tokens_in(browser: HttpClient, client: RegisteredClient, live: str) -> dict[str, Any]:
    """An app's tokens, obtained in the browser's session (its grant carries the sid)."""
    url = authorize_url(client)
    response = browser.get(url)
    if response.status_code == HTTPStatus.OK:
        response = browser.post(url, {"decision": "allow"})
    code = query(response["Location"])["code"]
    answer = requests.post(
        f"{live}/oauth/token",
        data={"grant_type": "authorization_code", "code": code,
              "redirect_uri": client.model.redirect_uris[0]},
        auth=(client.client_id, client.secret or ""), timeout=10,
    )  # fmt: skip
    assert answer.status_code == HTTPStatus.OK, answer.text
    return dict(answer.json())


def refreshed(live: str, client: RegisteredClient, tokens: dict[str, Any]) -> int:
    answer = requests.post(
        f"{live}/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(client.client_id, client.secret or ""), timeout=10,
    )  # fmt: skip
    return answer.status_code


@pytest.fixture
def app(make_client: Callable[..., RegisteredClient]) -> RegisteredClient:
    return make_client(name="Photo printer", backchannel_logout_uri="http://127.0.0.1:9/logout")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_unlink_ends_a_provider_only_accounts_sessions_and_grants(
    live: str, upstream: Any, browser: HttpClient, app: RegisteredClient, provider: str
) -> None:
    sign_in_with(browser, provider)
    tokens = tokens_in(browser, app, live)
    elsewhere = HttpsClient()
    sign_in_with(elsewhere, provider)
    user = User.objects.get()
    assert SignInSession.objects.filter(method=provider, ended_at__isnull=True).count() == 2

    assert unlink_sent(upstream, live, provider) in (HTTPStatus.OK, HTTPStatus.NO_CONTENT)

    assert not SocialIdentity.objects.exists()
    assert not SignInSession.objects.filter(ended_at__isnull=True).exists()
    for signed_out in (browser, elsewhere):
        assert signed_out.get("/accounts/").status_code == HTTPStatus.FOUND
    assert LogoutDelivery.objects.filter(client=app.model).count() == 1  # the app is told
    assert not Grant.objects.active().exists() and not Consent.objects.exists()
    assert refreshed(live, app, tokens) == HTTPStatus.BAD_REQUEST
    event = SecurityEvent.objects.get(kind="identity_unlinked")
    assert event.user == user
    assert event.detail["provider"] == provider and event.detail["reason"] == REASONS[provider]
    assert event.detail["sessions_ended"] == 2 and event.detail["grants_ended"] == 1
    ended = SecurityEvent.objects.get(kind="sessions_ended")
    assert ended.detail["reason"] == "unlink"
    notice = UnlinkNotice.objects.get()
    assert notice.user == user and notice.no_way_in


@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_unlink_ends_only_the_sessions_through_that_identity(
    live: str, upstream: Any, user: User, app: RegisteredClient, provider: str
) -> None:
    with_password = HttpsClient()
    with_password.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    tokens = tokens_in(with_password, app, live)
    through = HttpsClient()
    through.force_login(user)
    sign_in_with(through, provider, link="1")
    sign_in_with(through, provider)  # a session that signed in through the identity

    unlink_sent(upstream, live, provider)

    assert through.get("/accounts/").status_code == HTTPStatus.FOUND
    page = with_password.get("/accounts/")
    assert page.status_code == HTTPStatus.OK
    assert "Every session that signed in with it has ended" in page.content.decode()
    assert "only way to sign in" not in page.content.decode()
    assert refreshed(live, app, tokens) == HTTPStatus.OK  # the password still signs in
    assert not LogoutDelivery.objects.exists()  # the app got its tokens in the other session


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_forged_unlink_ends_no_session(
    live: str, upstream: Any, browser: HttpClient, app: RegisteredClient, provider: str
) -> None:
    sign_in_with(browser, provider)
    tokens = tokens_in(browser, app, live)
    forged = {"admin_key": "guessed"} if provider == "kakao" else {"signature": "AAAA"}

    status = unlink_sent(upstream, live, provider, **forged)

    assert status in (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN)
    assert SocialIdentity.objects.exists() and not UnlinkNotice.objects.exists()
    assert browser.get("/accounts/").status_code == HTTPStatus.OK
    assert SignInSession.objects.filter(ended_at__isnull=True).count() == 1
    assert refreshed(live, app, tokens) == HTTPStatus.OK


@pytest.mark.parametrize(("language", "words"), [
    ("en", ["Kakao told us", "only way to sign in", "Set a password", "I have read this"]),
    ("ko", ["카카오에서", "유일한 로그인 방법", "비밀번호 설정", "확인했습니다"]),
])  # fmt: skip
def test_the_account_page_tells_the_person_how_to_get_back_in_until_they_have_read_it(
    live: str, upstream: Any, browser: HttpClient, language: str, words: list[str]
) -> None:
    sign_in_with(browser, "kakao")
    user = User.objects.get()
    user.email_verified = True  # Kakao vouched for it
    user.save()
    unlink_sent(upstream, live, "kakao")
    back = HttpsClient()
    back.force_login(user)  # as after a password reset by email

    page = back.get("/accounts/", HTTP_ACCEPT_LANGUAGE=language).content.decode()

    for word in words:
        assert word in page
    notice = UnlinkNotice.objects.get()
    assert back.post(f"/accounts/unlink-notices/{notice.pk}/read").status_code == HTTPStatus.FOUND
    assert words[0] not in back.get("/accounts/", HTTP_ACCEPT_LANGUAGE=language).content.decode()


def test_someone_elses_notice_cannot_be_marked_read(
    live: str, upstream: Any, browser: HttpClient, signed_in: HttpClient
) -> None:
    other = HttpsClient()
    sign_in_with(other, "kakao")
    unlink_sent(upstream, live, "kakao")
    notice = UnlinkNotice.objects.get()

    signed_in.post(f"/accounts/unlink-notices/{notice.pk}/read")

    assert UnlinkNotice.objects.get().dismissed_at is None


def test_an_account_left_with_no_way_in_can_reset_its_password_by_email(
    live: str, upstream: Any, browser: HttpClient, mailoutbox: list[Any]
) -> None:
    sign_in_with(browser, "kakao")
    User.objects.update(email_verified=True)
    email = User.objects.get().email
    unlink_sent(upstream, live, "kakao")

    HttpsClient().post("/accounts/password/reset/", {"email": email})

    assert [message.to for message in mailoutbox] == [[email]]


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(
    "params",
    [
        {"user_id": "\x00"},
        {"user_id": "１２３"},  # full-width digits are digits to Python, not to Kakao
        {"user_id": "1" * 30},
        {"user_id": "-1"},
        {"user_id": "1", "referrer_type": "\x00" + "A" * 5000},
        {"user_id": "1", "referrer_type": "'\"<script>"},
    ],
)
def test_hostile_fields_in_an_authentic_kakao_unlink_never_make_a_500(
    live: str, upstream: Any, db: None, method: str, params: dict[str, str]
) -> None:
    request = {"app_id": str(upstream.kakao.app_id), "referrer_type": "UNLINK_FROM_APPS", **params}
    answer = requests.request(
        method,
        f"{live}/accounts/unlink/kakao/",
        **{"params" if method == "GET" else "data": request},
        headers={"Authorization": f"KakaoAK {upstream.kakao.admin_key}"},
        timeout=10,
    )

    assert answer.status_code in (HTTPStatus.OK, HTTPStatus.BAD_REQUEST)
    for notice in UnlinkNotice.objects.all():
        assert notice.uid.isdigit() and notice.reason.isprintable() and len(notice.reason) <= 64


@pytest.mark.parametrize("notice_id", ["0", "99999999999999999999", "1" * 200])
def test_marking_a_notice_read_takes_no_hostile_id_badly(
    signed_in: HttpClient, notice_id: str
) -> None:
    response = signed_in.post(f"/accounts/unlink-notices/{notice_id}/read")

    assert response.status_code == HTTPStatus.FOUND


def test_marking_a_notice_read_is_a_post_with_csrf(user: User) -> None:
    strict = HttpsClient(enforce_csrf_checks=True)
    strict.force_login(user)
    notice = UnlinkNotice.objects.create(provider="kakao", uid="1", user=user, no_way_in=True)

    assert strict.get(f"/accounts/unlink-notices/{notice.pk}/read").status_code == 405
    assert strict.post(f"/accounts/unlink-notices/{notice.pk}/read").status_code == 403
    assert UnlinkNotice.objects.get().dismissed_at is None
