"""Our own mobile apps sign in with the Kakao and Google SDKs and trade what those give them for
this server's tokens: RFC 8693 token exchange at the token endpoint, over real HTTP against the
loopback fakes.

Covered: RFC 8693 §2.1 (the request: subject_token, subject_token_type), §2.2.1 (the answer and
its issued_token_type), §2.2.2 (a bad subject token is invalid_request); the nonce that binds an
id_token, which has no jti, to one exchange; token substitution (a token of another app).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from accounts.models import SocialIdentity, User
from events.models import SecurityEvent
from oauth.models import Grant
from tests.conftest import RegisteredClient

EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"
ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token"


@pytest.fixture
def app(make_client: Callable[..., RegisteredClient]) -> RegisteredClient:
    """Our own phone app."""
    return make_client(name="Our phone app", public=True, first_party=True, native=True)


def nonce_for(live: str, client: RegisteredClient) -> str:
    answer = requests.post(
        f"{live}/oauth/native/nonce", data={"client_id": client.client_id}, timeout=10
    )
    assert answer.status_code == HTTPStatus.OK, answer.text
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.json()["expires_in"] == 300
    nonce: str = answer.json()["nonce"]
    return nonce


def exchange(live: str, client: RegisteredClient, **form: str) -> requests.Response:
    data = {"grant_type": EXCHANGE, "client_id": client.client_id, **form}
    return requests.post(f"{live}/oauth/token", data=data, timeout=10)


def our_claims(live: str, token: str) -> dict[str, Any]:
    keys = KeySet.import_key_set(requests.get(f"{live}/oauth/jwks", timeout=10).json())
    claims: dict[str, Any] = jwt.decode(token, keys).claims
    return claims


def assert_tokens_for(live: str, answer: requests.Response, app: RegisteredClient) -> User:
    """Our access, refresh and id tokens for the app, for the person the provider named."""
    assert answer.status_code == HTTPStatus.OK, answer.text
    assert answer.headers["Cache-Control"] == "no-store"
    tokens = answer.json()
    assert tokens["issued_token_type"] == ACCESS_TOKEN
    assert tokens["token_type"] == "Bearer" and tokens["refresh_token"]
    access, id_token = (
        our_claims(live, tokens["access_token"]),
        our_claims(live, tokens["id_token"]),
    )
    assert access["iss"] == id_token["iss"] == live
    assert access["client_id"] == id_token["aud"] == app.client_id
    assert access["sub"] == id_token["sub"]
    refreshed = requests.post(
        f"{live}/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
              "client_id": app.client_id},
        timeout=10,
    )  # fmt: skip
    assert refreshed.status_code == HTTPStatus.OK, refreshed.text
    user = User.objects.get(pk=access["sub"])
    assert SecurityEvent.objects.filter(kind="sign_in", user=user, client=app.model).exists()
    assert SecurityEvent.objects.filter(kind="tokens_issued", user=user, client=app.model).exists()
    return user


def test_a_kakao_id_token_gets_our_tokens(live: str, upstream: Any, app: RegisteredClient) -> None:
    sdk = upstream.kakao.sdk_login(nonce=nonce_for(live, app))

    answer = exchange(live, app, subject_token=sdk["id_token"], subject_token_type=ID_TOKEN)

    user = assert_tokens_for(live, answer, app)
    assert SocialIdentity.objects.get(provider="kakao", uid="123456789").user == user
    assert not user.email_verified  # Kakao's id_token does not say the email is verified


def test_a_kakao_access_token_of_our_app_gets_our_tokens(
    live: str, upstream: Any, app: RegisteredClient
) -> None:
    sdk = upstream.kakao.sdk_login()

    answer = exchange(
        live, app, subject_token=sdk["access_token"], subject_token_type=ACCESS_TOKEN,
        subject_issuer="kakao",
    )  # fmt: skip

    user = assert_tokens_for(live, answer, app)
    assert SocialIdentity.objects.get(provider="kakao", uid="123456789").user == user
    assert user.email == "sample@sample.com" and user.email_verified  # read as in web sign-in
    checked = [r.path for r in upstream.kakao.requests]
    assert checked == ["/kakao/v1/user/access_token_info", "/kakao/v2/user/me"]


def test_a_google_id_token_joins_the_account_with_that_verified_email(
    live: str, upstream: Any, app: RegisteredClient, make_user: Callable[..., User]
) -> None:
    jane = make_user("jane", email="jane@example.com", email_verified=True)
    id_token = upstream.google.sdk_sign_in(nonce=nonce_for(live, app))

    answer = exchange(live, app, subject_token=id_token, subject_token_type=ID_TOKEN)

    assert assert_tokens_for(live, answer, app) == jane
    assert SocialIdentity.objects.get(provider="google").user == jane


def test_the_scope_asked_for_is_what_the_tokens_get(
    live: str, upstream: Any, app: RegisteredClient
) -> None:
    id_token = upstream.google.sdk_sign_in(nonce=nonce_for(live, app))

    answer = exchange(
        live, app, subject_token=id_token, subject_token_type=ID_TOKEN, scope="profile"
    )

    assert answer.status_code == HTTPStatus.OK, answer.text
    assert answer.json()["scope"] == "profile" and "id_token" not in answer.json()


def refused(answer: requests.Response, error: str = "invalid_request") -> str:
    assert answer.status_code == HTTPStatus.BAD_REQUEST, answer.text
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.json()["error"] == error, answer.text
    assert not Grant.objects.exists() and not SocialIdentity.objects.exists()
    description: str = answer.json()["error_description"]
    return description


def failed_event(reason: str) -> SecurityEvent:
    event = SecurityEvent.objects.get(kind="sign_in_failed")
    assert event.detail["reason"] == reason and event.detail["method"] == "token_exchange"
    return event


def test_a_kakao_id_token_of_another_app_is_refused(
    live: str, upstream: Any, app: RegisteredClient
) -> None:
    sdk = upstream.kakao.sdk_login(nonce=nonce_for(live, app), app_key="someone-elses-app-key")

    answer = exchange(live, app, subject_token=sdk["id_token"], subject_token_type=ID_TOKEN)

    assert "another app" in refused(answer)
    assert failed_event("audience").client == app.model


def test_a_kakao_access_token_of_another_app_is_refused(
    live: str, upstream: Any, app: RegisteredClient
) -> None:
    sdk = upstream.kakao.sdk_login(app_id=999)

    answer = exchange(
        live, app, subject_token=sdk["access_token"], subject_token_type=ACCESS_TOKEN,
        subject_issuer="kakao",
    )  # fmt: skip

    assert "another app" in refused(answer)
    failed_event("audience")
    assert "/kakao/v2/user/me" not in [r.path for r in upstream.kakao.requests]


def test_a_google_id_token_of_another_app_is_refused(
    live: str, upstream: Any, app: RegisteredClient
) -> None:
    id_token = upstream.google.sdk_sign_in(nonce=nonce_for(live, app), client_id="other-app")

    assert "another app" in refused(
        exchange(live, app, subject_token=id_token, subject_token_type=ID_TOKEN)
    )
    failed_event("audience")


def test_a_replayed_nonce_is_refused(live: str, upstream: Any, app: RegisteredClient) -> None:
    sdk = upstream.kakao.sdk_login(nonce=nonce_for(live, app))
    first = exchange(live, app, subject_token=sdk["id_token"], subject_token_type=ID_TOKEN)
    assert first.status_code == HTTPStatus.OK
    Grant.objects.all().delete()
    SocialIdentity.objects.all().delete()

    again = exchange(live, app, subject_token=sdk["id_token"], subject_token_type=ID_TOKEN)

    assert "used already" in refused(again)
    failed_event("nonce")


@pytest.mark.parametrize(
    ("nonce", "reason"),
    [(None, "nonce_missing"), ("made-up-by-the-app", "nonce"), ("of-another-client", "nonce")],
)
def test_an_id_token_without_a_nonce_we_issued_to_this_client_is_refused(
    live: str,
    upstream: Any,
    app: RegisteredClient,
    make_client: Callable[..., RegisteredClient],
    nonce: str | None,
    reason: str,
) -> None:
    if nonce == "of-another-client":
        other = make_client(name="Our other app", public=True, first_party=True, native=True)
        nonce = nonce_for(live, other)
    sdk = upstream.kakao.sdk_login(nonce=nonce)

    refused(exchange(live, app, subject_token=sdk["id_token"], subject_token_type=ID_TOKEN))

    failed_event(reason)


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp": int(time.time()) - 120}, "expired"),
        ({"iat": int(time.time()) - 600}, "old"),
        ({"iat": None}, "claims"),
        ({"iss": "https://kauth.kakao.com.evil.example"}, "issuer"),
        ({"sub": None}, "claims"),
    ],
)
def test_an_expired_old_or_foreign_id_token_is_refused(
    live: str, upstream: Any, app: RegisteredClient, claims: dict[str, Any], reason: str
) -> None:
    nonce = nonce_for(live, app)
    upstream.kakao.id_token_claims = claims
    sdk = upstream.kakao.sdk_login(nonce=nonce)

    refused(exchange(live, app, subject_token=sdk["id_token"], subject_token_type=ID_TOKEN))

    failed_event(reason)


def test_an_id_token_signed_with_another_key_is_refused(
    live: str, upstream: Any, app: RegisteredClient
) -> None:
    upstream.kakao.sign_with_wrong_key = True
    sdk = upstream.kakao.sdk_login(nonce=nonce_for(live, app))

    assert "signature" in refused(
        exchange(live, app, subject_token=sdk["id_token"], subject_token_type=ID_TOKEN)
    )
    failed_event("signature")


def test_naver_tokens_are_refused_saying_why(
    live: str, upstream: Any, app: RegisteredClient
) -> None:
    forged_key = RSAKey.generate_key(2048, parameters={"kid": "n1"})
    now = int(time.time())
    naver_id_token = jwt.encode(
        {"alg": "RS256", "kid": "n1"},
        {"iss": "https://nid.naver.com", "aud": "x", "sub": "1", "iat": now, "exp": now + 60},
        forged_key,
    )

    by_access_token = exchange(
        live, app, subject_token="AAAAQosjWDJieBiQZc3to9YQ", subject_token_type=ACCESS_TOKEN,
        subject_issuer="naver",
    )  # fmt: skip
    by_id_token = exchange(live, app, subject_token=naver_id_token, subject_token_type=ID_TOKEN)

    for answer in (by_access_token, by_id_token):
        assert "Naver does not say which app a token was issued to" in refused(answer)
    assert SecurityEvent.objects.filter(kind="sign_in_failed", detail__reason="naver").count() == 2


def test_a_client_that_is_not_a_native_app_of_ours_is_refused(
    live: str, upstream: Any, app: RegisteredClient, make_client: Callable[..., RegisteredClient]
) -> None:
    theirs = make_client(name="Their phone app", public=True)
    sdk = upstream.kakao.sdk_login(nonce=nonce_for(live, app))

    answer = exchange(live, theirs, subject_token=sdk["id_token"], subject_token_type=ID_TOKEN)
    no_nonce = requests.post(
        f"{live}/oauth/native/nonce", data={"client_id": theirs.client_id}, timeout=10
    )

    refused(answer, "unauthorized_client")
    refused(no_nonce, "unauthorized_client")


def test_a_confidential_client_cannot_exchange(
    live: str, upstream: Any, confidential_client: RegisteredClient
) -> None:
    answer = requests.post(
        f"{live}/oauth/token",
        data={"grant_type": EXCHANGE, "subject_token": "x", "subject_token_type": ID_TOKEN},
        auth=(confidential_client.client_id, confidential_client.secret or ""),
        timeout=10,
    )

    assert answer.status_code == HTTPStatus.UNAUTHORIZED
    assert answer.json()["error"] == "invalid_client"


def test_garbage_is_refused_as_noise_without_an_event(
    live: str, upstream: Any, app: RegisteredClient
) -> None:
    answer = exchange(live, app, subject_token="not.a-jwt", subject_token_type=ID_TOKEN)

    refused(answer)
    assert not SecurityEvent.objects.filter(kind="sign_in_failed").exists()


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"subject_token_type": ID_TOKEN}, "invalid_request"),
        ({"subject_token": "x"}, "invalid_request"),
        ({"subject_token": "x", "subject_token_type": "urn:x"}, "invalid_request"),
        ({"subject_token": "x", "subject_token_type": ID_TOKEN, "actor_token": "y"},
         "invalid_request"),
        ({"subject_token": "x", "subject_token_type": ID_TOKEN,
          "requested_token_type": "urn:ietf:params:oauth:token-type:refresh_token"},
         "invalid_request"),
        ({"subject_token": "x", "subject_token_type": ID_TOKEN,
          "audience": "https://elsewhere.example"}, "invalid_target"),
        ({"subject_token": "x", "subject_token_type": ID_TOKEN, "scope": "admin"},
         "invalid_scope"),
        ({"subject_token": "x", "subject_token_type": ACCESS_TOKEN, "subject_issuer": "google"},
         "invalid_request"),
    ],
)  # fmt: skip
def test_malformed_exchanges_are_refused(
    live: str, upstream: Any, app: RegisteredClient, form: dict[str, str], error: str
) -> None:
    refused(exchange(live, app, **form), error)


def test_kakao_out_of_reach_is_a_503_to_retry(
    live: str, upstream: Any, app: RegisteredClient, settings: Any
) -> None:
    settings.KAKAO_TOKEN_INFO_URL = "http://127.0.0.1:9/v1/user/access_token_info"

    answer = exchange(
        live, app, subject_token="a-kakao-token", subject_token_type=ACCESS_TOKEN,
        subject_issuer="kakao",
    )  # fmt: skip

    assert answer.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert answer.json()["error"] == "temporarily_unavailable"
    assert answer.headers["Cache-Control"] == "no-store"
    failed_event("unavailable")


def test_a_disabled_account_is_refused(
    live: str, upstream: Any, app: RegisteredClient, make_user: Callable[..., User]
) -> None:
    jane = make_user("jane", email="jane@example.com", is_active=False)
    SocialIdentity.objects.create(user=jane, provider="google", uid="110169484474386276334")
    id_token = upstream.google.sdk_sign_in(nonce=nonce_for(live, app))

    answer = exchange(live, app, subject_token=id_token, subject_token_type=ID_TOKEN)

    assert answer.status_code == HTTPStatus.BAD_REQUEST
    assert "disabled" in answer.json()["error_description"]
    assert not Grant.objects.exists()
    failed_event("inactive")


def test_nonces_are_limited_per_address(
    live: str, upstream: Any, app: RegisteredClient, settings: Any
) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "native_nonce_address": (2, 600)}
    for _ in range(2):
        nonce_for(live, app)

    answer = requests.post(
        f"{live}/oauth/native/nonce", data={"client_id": app.client_id}, timeout=10
    )

    assert answer.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert answer.json()["error"] == "too_many_requests"


def test_discovery_lists_the_exchange_only_when_configured(
    live: str, upstream: Any, settings: Any
) -> None:
    def listed() -> bool:
        metadata = requests.get(f"{live}/.well-known/oauth-authorization-server", timeout=10)
        return EXCHANGE in metadata.json()["grant_types_supported"]

    assert listed()
    settings.GOOGLE_NATIVE_CLIENT_IDS = settings.KAKAO_NATIVE_APP_KEY = []
    settings.KAKAO_APP_ID = ""
    assert not listed()
