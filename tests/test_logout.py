"""OpenID Connect RP-Initiated Logout 1.0 at the end_session_endpoint: a valid id_token_hint
from a signed-in session signs the person out and sends them back with `state` (§2, §3); else
a confirmation page; never a redirect to an unregistered address (§3, §4); afterwards
prompt=none answers login_required."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client as HttpClient
from joserfc import jwt
from joserfc.jwk import RSAKey
from joserfc.jws import extract_compact

from accounts.models import SignInSession, User
from oauth.keys import signing_key_rotate
from tests.conftest import REDIRECT_URI, HttpsClient, RegisteredClient, authorize_url, query

BACK = "https://app.example.com/signed-out"


@pytest.fixture
def app(make_client: Callable[..., RegisteredClient]) -> RegisteredClient:
    return make_client(name="Photo printer", post_logout_redirect_uris=[BACK])


@pytest.fixture
def id_token(app: RegisteredClient, exchange: Callable[..., dict[str, Any]]) -> str:
    token: str = exchange(app)["id_token"]
    return token


def test_discovery_names_the_end_session_endpoint(browser: HttpClient) -> None:
    metadata = browser.get("/.well-known/openid-configuration").json()

    assert metadata["end_session_endpoint"].endswith("/oauth/logout")
    assert metadata["backchannel_logout_supported"] is True
    assert metadata["backchannel_logout_session_supported"] is True


def test_a_valid_hint_signs_out_and_returns_with_state(
    signed_in: HttpClient, app: RegisteredClient, id_token: str
) -> None:
    response = signed_in.get(
        "/oauth/logout",
        {"id_token_hint": id_token, "post_logout_redirect_uri": BACK, "state": "s t"},
    )

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"{BACK}?state=s+t"
    assert "_auth_user_id" not in signed_in.session
    assert SignInSession.objects.get().ended_at is not None
    again = signed_in.get(authorize_url(app, prompt="none"))
    assert query(again["Location"])["error"] == "login_required"


def test_the_hint_may_come_by_post_and_may_have_expired(
    signed_in: HttpClient, app: RegisteredClient, id_token: str, settings: Any
) -> None:
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=2)):
        response = signed_in.post(
            "/oauth/logout", {"id_token_hint": id_token, "post_logout_redirect_uri": BACK}
        )

    assert response.status_code == HTTPStatus.FOUND and response["Location"] == BACK
    assert "_auth_user_id" not in signed_in.session


def test_a_hint_signed_by_a_retired_key_still_counts(
    signed_in: HttpClient, app: RegisteredClient, id_token: str
) -> None:
    signing_key_rotate(algorithm="RS256")
    signing_key_rotate(algorithm="RS256")

    response = signed_in.get("/oauth/logout", {"id_token_hint": id_token})

    assert response.status_code == HTTPStatus.OK
    assert "_auth_user_id" not in signed_in.session


def test_without_a_hint_the_person_is_asked_first(
    signed_in: HttpClient, app: RegisteredClient
) -> None:
    page = signed_in.get(
        "/oauth/logout",
        {"client_id": app.client_id, "post_logout_redirect_uri": BACK, "state": "xyz"},
    )

    assert page.status_code == HTTPStatus.OK
    assert "_auth_user_id" in signed_in.session
    assert "Photo printer" in page.content.decode()
    carried = page.context["carried"]
    answer = signed_in.post("/oauth/logout/confirm", {**carried, "decision": "sign_out"})

    assert answer.status_code == HTTPStatus.FOUND
    assert answer["Location"] == f"{BACK}?state=xyz"
    assert "_auth_user_id" not in signed_in.session


def test_the_person_may_stay_signed_in(signed_in: HttpClient, app: RegisteredClient) -> None:
    signed_in.get("/oauth/logout", {"client_id": app.client_id})

    answer = signed_in.post(
        "/oauth/logout/confirm", {"client_id": app.client_id, "decision": "stay"}
    )

    assert answer.status_code == HTTPStatus.OK
    assert "_auth_user_id" in signed_in.session


def test_the_confirmation_needs_the_pages_csrf_token(user: User, app: RegisteredClient) -> None:
    browser = HttpsClient(enforce_csrf_checks=True)
    browser.force_login(user)

    forged = browser.post("/oauth/logout/confirm", {"decision": "sign_out"})

    assert forged.status_code == HTTPStatus.FORBIDDEN
    assert "_auth_user_id" in browser.session


def test_a_hint_naming_someone_else_asks_first(
    browser: HttpClient, make_user: Callable[..., User], app: RegisteredClient, id_token: str
) -> None:
    browser.force_login(make_user("bob"))

    page = browser.get("/oauth/logout", {"id_token_hint": id_token})

    assert page.status_code == HTTPStatus.OK and "carried" in page.context
    assert "_auth_user_id" in browser.session


def forged_token(app: RegisteredClient, kid: str) -> str:
    key = RSAKey.generate_key(2048, parameters={"kid": kid})
    claims = {"iss": "https://testserver", "aud": app.client_id, "sub": "x", "exp": 2**31}
    return jwt.encode({"alg": "RS256", "kid": kid}, claims, key)


@pytest.mark.parametrize(
    "params",
    [
        {"post_logout_redirect_uri": "https://evil.example/"},
        {"post_logout_redirect_uri": BACK + "/more"},
        {"post_logout_redirect_uri": BACK.upper()},
        {"client_id": "unknown", "post_logout_redirect_uri": BACK},
        {"id_token_hint": "not.a.jwt"},
        {"id_token_hint": "a" * 5000},
        {"client_id": "x\x00y"},
    ],
)
def test_bad_requests_get_a_page_and_never_a_redirect(
    signed_in: HttpClient, app: RegisteredClient, params: dict[str, str]
) -> None:
    params = {"client_id": app.client_id, **params}

    response = signed_in.get("/oauth/logout", params)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Location" not in response
    assert "_auth_user_id" in signed_in.session


def test_a_forged_hint_signed_with_a_known_kid_is_refused(
    signed_in: HttpClient, app: RegisteredClient, id_token: str
) -> None:
    kid = extract_compact(id_token.encode()).headers()["kid"]

    response = signed_in.get(
        "/oauth/logout", {"id_token_hint": forged_token(app, kid), "post_logout_redirect_uri": BACK}
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "_auth_user_id" in signed_in.session


def test_a_hint_for_another_client_with_this_client_id_is_refused(
    signed_in: HttpClient, app: RegisteredClient, id_token: str,
    make_client: Callable[..., RegisteredClient],
) -> None:  # fmt: skip
    other = make_client(post_logout_redirect_uris=[BACK])

    response = signed_in.get(
        "/oauth/logout", {"id_token_hint": id_token, "client_id": other.client_id}
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST


def test_signed_out_already_returns_to_a_registered_address(
    browser: HttpClient, app: RegisteredClient
) -> None:
    response = browser.get(
        "/oauth/logout",
        {"client_id": app.client_id, "post_logout_redirect_uri": BACK, "state": "1"},
    )

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"{BACK}?state=1"


def test_the_pages_speak_the_apps_ui_locales(signed_in: HttpClient, app: RegisteredClient) -> None:
    page = signed_in.get("/oauth/logout", {"client_id": app.client_id, "ui_locales": "ko"})

    assert "로그아웃" in page.content.decode()


@pytest.mark.django_db
def test_createclient_registers_logout_addresses() -> None:
    out = StringIO()
    call_command(
        "createclient", "--name", "Logout app", "--redirect-uri", REDIRECT_URI,
        "--post-logout-redirect-uri", BACK, "--post-logout-redirect-uri", BACK + "2",
        "--backchannel-logout-uri", "http://127.0.0.1:9/logout", stdout=out,
    )  # fmt: skip

    printed = json.loads(out.getvalue())
    assert printed["post_logout_redirect_uris"] == [BACK, BACK + "2"]
    assert printed["backchannel_logout_uri"] == "http://127.0.0.1:9/logout"
