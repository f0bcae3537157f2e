"""Kakao's unlink webhook and Naver's unlink callback (providers.md §6.1, §6.2), sent over real
HTTP by the loopback fakes: an authentic notice removes the identity link and, for an account
left with no way to sign in, ends every grant and consent, so the apps' refresh tokens fail; a
forged, stale, replayed or garbled one changes nothing and is a security event."""

from __future__ import annotations

import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
import requests

from accounts.models import SocialIdentity, UnlinkNotice, User
from accounts.providers.naver_unlink import unlink_base_string, unlink_key, unlink_signature
from events.models import SecurityEvent
from oauth.models import Consent, Grant
from tests.conftest import RegisteredClient


@pytest.fixture
def linked(
    user: User, exchange: Callable[..., dict[str, Any]], confidential_client: RegisteredClient
) -> Callable[..., dict[str, Any]]:
    """The person signed in through `provider` as `uid`, with an app's live tokens."""

    def link(provider: str, uid: str, *, password: bool = False) -> dict[str, Any]:
        tokens = exchange(confidential_client)  # signed in with the password it then loses
        if not password:
            user.set_unusable_password()
            user.save()
        SocialIdentity.objects.create(user=user, provider=provider, uid=uid)
        return tokens

    return link


def refresh(live: str, client: RegisteredClient, tokens: dict[str, Any]) -> requests.Response:
    return requests.post(
        f"{live}/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(client.client_id, client.secret or ""),
        timeout=10,
    )


def assert_nothing_changed(identities: int = 1) -> None:
    assert SocialIdentity.objects.count() == identities
    assert not UnlinkNotice.objects.exists()
    assert not Grant.objects.filter(revoked_at__isnull=False).exists()


def refused_event(provider: str, reason: str) -> None:
    event = SecurityEvent.objects.get(kind="unlink_refused")
    assert event.detail == {"provider": provider, "reason": reason}


# Kakao


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_kakao_unlink_ends_a_provider_only_accounts_grants(
    live: str,
    upstream: Any,
    linked: Callable[..., dict[str, Any]],
    confidential_client: RegisteredClient,
    user: User,
    method: str,
) -> None:
    tokens = linked("kakao", "123456789")

    status = upstream.kakao.send_unlink(
        f"{live}/accounts/unlink/kakao/", method=method, referrer_type="ACCOUNT_DELETE"
    )

    assert status == HTTPStatus.OK
    assert not SocialIdentity.objects.exists()
    assert not Grant.objects.active().exists() and not Consent.objects.exists()
    answer = refresh(live, confidential_client, tokens)
    assert answer.status_code == HTTPStatus.BAD_REQUEST
    assert answer.json()["error"] == "invalid_grant"
    event = SecurityEvent.objects.get(kind="identity_unlinked")
    assert event.user == user and event.detail["reason"] == "ACCOUNT_DELETE"
    assert event.detail["by"] == "provider" and event.detail["grants_ended"] == 1
    assert UnlinkNotice.objects.get().settled_at is not None


def test_an_account_with_a_password_keeps_its_apps(
    live: str,
    upstream: Any,
    linked: Callable[..., dict[str, Any]],
    confidential_client: RegisteredClient,
) -> None:
    tokens = linked("kakao", "123456789", password=True)

    assert upstream.kakao.send_unlink(f"{live}/accounts/unlink/kakao/") == HTTPStatus.OK

    assert not SocialIdentity.objects.exists()
    assert refresh(live, confidential_client, tokens).status_code == HTTPStatus.OK


def test_a_kakao_unlink_of_someone_unknown_is_answered_200(
    live: str, upstream: Any, db: None
) -> None:
    status = upstream.kakao.send_unlink(f"{live}/accounts/unlink/kakao/", user_id="42")

    assert status == HTTPStatus.OK
    assert UnlinkNotice.objects.get().uid == "42"
    assert SecurityEvent.objects.get(kind="identity_unlinked").detail["known"] is False


@pytest.mark.parametrize(
    "forged",
    [{"admin_key": "guessed"}, {"admin_key": ""}, {"app_id": "999"}, {"app_id": ""}],
)
def test_a_kakao_unlink_without_our_admin_key_and_app_id_changes_nothing(
    live: str, upstream: Any, linked: Callable[..., dict[str, Any]], forged: dict[str, str]
) -> None:
    linked("kakao", "123456789")

    status = upstream.kakao.send_unlink(f"{live}/accounts/unlink/kakao/", **forged)

    assert status == HTTPStatus.UNAUTHORIZED
    assert_nothing_changed()
    refused_event("kakao", "authentication")


def test_a_kakao_unlink_is_refused_when_no_admin_key_is_configured(
    live: str, upstream: Any, settings: Any, linked: Callable[..., dict[str, Any]]
) -> None:
    linked("kakao", "123456789")
    settings.KAKAO_ADMIN_KEY = ""

    status = upstream.kakao.send_unlink(f"{live}/accounts/unlink/kakao/", admin_key="")

    assert status == HTTPStatus.UNAUTHORIZED
    assert_nothing_changed()


# Naver


def test_a_naver_unlink_ends_a_provider_only_accounts_grants(
    live: str,
    upstream: Any,
    linked: Callable[..., dict[str, Any]],
    confidential_client: RegisteredClient,
) -> None:
    tokens = linked("naver", "32742776")

    status = upstream.naver.send_unlink(f"{live}/accounts/unlink/naver/")

    assert status == HTTPStatus.NO_CONTENT
    assert not SocialIdentity.objects.exists()
    assert refresh(live, confidential_client, tokens).json()["error"] == "invalid_grant"
    assert SecurityEvent.objects.get(kind="identity_unlinked").detail["provider"] == "naver"


def test_after_a_secret_rotation_the_previous_secret_still_verifies(
    live: str, upstream: Any, settings: Any, linked: Callable[..., dict[str, Any]]
) -> None:
    linked("naver", "32742776")
    old_secret = settings.NAVER_CLIENT_SECRET
    settings.NAVER_CLIENT_SECRET = "the-rotated-secret"

    refused = upstream.naver.send_unlink(f"{live}/accounts/unlink/naver/")
    settings.NAVER_PREVIOUS_CLIENT_SECRET = old_secret
    accepted = upstream.naver.send_unlink(f"{live}/accounts/unlink/naver/")

    assert (refused, accepted) == (HTTPStatus.FORBIDDEN, HTTPStatus.NO_CONTENT)
    assert not SocialIdentity.objects.exists()


def test_a_replayed_naver_unlink_is_refused(
    live: str, upstream: Any, linked: Callable[..., dict[str, Any]]
) -> None:
    linked("naver", "32742776")
    form = upstream.naver.unlink_form(uid="someone-else")
    assert upstream.naver.send_unlink(f"{live}/accounts/unlink/naver/", form) == 204

    again = upstream.naver.send_unlink(f"{live}/accounts/unlink/naver/", form)

    assert again == HTTPStatus.FORBIDDEN
    assert UnlinkNotice.objects.count() == 1 and SocialIdentity.objects.count() == 1
    refused_event("naver", "replayed")


def resigned(form: dict[str, str], secret: str, **changes: str) -> dict[str, str]:
    """The form with `changes`, signed again as Naver would have signed it."""
    form = {**form, **changes}
    base = unlink_base_string(form["clientId"], form["encryptUniqueId"], form["timestamp"])
    return {**form, "signature": unlink_signature(unlink_key(secret), base)}


@pytest.mark.parametrize(
    ("forge", "status", "reason"),
    [
        (lambda form, secret: {**form, "signature": "AAAA" + form["signature"][4:]}, 403,
         "signature"),
        (lambda form, secret: resigned(form, "not-our-secret"), 403, "signature"),
        (lambda form, secret: {**form, "timestamp": str(int(form["timestamp"]) + 1)}, 403,
         "signature"),
        (lambda form, secret: resigned(form, secret, timestamp=str(int(time.time()) - 400)), 403,
         "timestamp"),
        (lambda form, secret: resigned(form, secret, clientId="their-client"), 403, "client"),
        (lambda form, secret: resigned(form, secret, encryptUniqueId="bm90LWVuY3J5cHRlZA"), 400,
         "garbled"),
        (lambda form, secret: resigned(form, secret, encryptUniqueId="%%%"), 400, "garbled"),
        (lambda form, secret: {}, 403, "client"),
    ],
)  # fmt: skip
def test_a_forged_naver_unlink_changes_nothing(
    live: str,
    upstream: Any,
    settings: Any,
    linked: Callable[..., dict[str, Any]],
    forge: Callable[[dict[str, str], str], dict[str, str]],
    status: int,
    reason: str,
) -> None:
    linked("naver", "32742776")
    form = forge(upstream.naver.unlink_form(), settings.NAVER_CLIENT_SECRET)

    answer = requests.post(f"{live}/accounts/unlink/naver/", data=form, timeout=10)

    assert answer.status_code == status
    assert_nothing_changed()
    refused_event("naver", reason)


@pytest.mark.parametrize("path", ["/accounts/unlink/kakao/", "/accounts/unlink/naver/"])
@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", b"\xff\xfe\x00=\x80"),
        ("application/x-www-form-urlencoded", b"user_id=%00&app_id=%ff&clientId=%00"),
        ("application/json", b'{"user_id": 1}'),
        ("multipart/form-data; boundary=zz", b"--zz\r\nbroken"),
        ("application/x-www-form-urlencoded", b"a=" + b"A" * 3_000_000),
    ],
)
def test_garbage_at_the_unlink_callbacks_is_refused_never_a_500(
    live: str, upstream: Any, db: None, path: str, content_type: str, body: bytes
) -> None:
    answer = requests.post(
        f"{live}{path}",
        data=body,
        headers={"Content-Type": content_type, "Authorization": "KakaoAK x\u00e9".encode()},  # type: ignore[dict-item]
        timeout=10,
    )

    assert HTTPStatus.BAD_REQUEST <= answer.status_code < HTTPStatus.INTERNAL_SERVER_ERROR
    assert not UnlinkNotice.objects.exists()


def test_the_fakes_send_their_notices_when_asked_over_http(
    live: str, upstream: Any, db: None
) -> None:
    """For `make run FAKES=1`: a developer makes the fakes send a notice with one request."""
    kakao = requests.post(
        f"{upstream.url}/kakao/test/send-unlink",
        data={"url": f"{live}/accounts/unlink/kakao/", "user_id": "7"},
        timeout=10,
    )
    naver = requests.post(
        f"{upstream.url}/naver/test/send-unlink",
        data={"url": f"{live}/accounts/unlink/naver/", "uid": "8"},
        timeout=10,
    )

    assert kakao.json() == {"status": 200} and naver.json() == {"status": 204}
    assert sorted(UnlinkNotice.objects.values_list("uid", flat=True)) == ["7", "8"]


def test_a_notice_whose_work_failed_is_settled_later(user: User) -> None:
    """Recorded first, so nothing is lost when the work fails: settleunlinks finishes it."""
    from io import StringIO

    from django.core.management import call_command

    SocialIdentity.objects.create(user=user, provider="kakao", uid="123456789")
    UnlinkNotice.objects.create(provider="kakao", uid="123456789", reason="UNLINK_FROM_ADMIN")
    out = StringIO()

    call_command("settleunlinks", stdout=out)

    assert "1 unlink notices settled" in out.getvalue()
    assert UnlinkNotice.objects.get().settled_at is not None
    assert not SocialIdentity.objects.exists()
    call_command("settleunlinks", stdout=out)  # nothing left: nothing done twice
    assert SecurityEvent.objects.filter(kind="identity_unlinked").count() == 1
