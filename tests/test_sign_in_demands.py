"""What a request demands of the person's sign-in: OpenID Connect Core §3.1.2.3 (signing in
first), §3.1.2.1 (prompt=login, select_account and none, max_age, id_token_hint), §3.1.2.6
(login_required)."""

from __future__ import annotations

import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

import pytest
import time_machine
from django.conf import settings
from django.test import Client as HttpClient
from joserfc import jwt
from joserfc.jwk import RSAKey

from accounts.models import User
from oauth.models import AuthorizationCode
from tests.conftest import PASSWORD, RegisteredClient, authorize_url, query


def test_signed_out_person_is_sent_to_the_login_page_and_back(
    browser: HttpClient, confidential_client: RegisteredClient, user: User
) -> None:
    url = authorize_url(confidential_client)

    response = browser.get(url)

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/accounts/login/?next=")
    response = browser.post(
        response["Location"], {"username": user.username, "password": PASSWORD, "next": url}
    )
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == url


def test_prompt_none_without_session_returns_login_required(
    browser: HttpClient, confidential_client: RegisteredClient
) -> None:
    response = browser.get(authorize_url(confidential_client, prompt="none", state="s"))

    params = query(response["Location"])
    assert params["error"] == "login_required"
    assert params["state"] == "s"
    assert params["iss"] == settings.ISSUER


def next_of(response: Any) -> str:
    """The `next` of a redirect to the login page."""
    location = response["Location"]
    assert location.startswith("/accounts/login/?next=")
    return unquote(location.removeprefix("/accounts/login/?next="))


def test_prompt_login_requires_signing_in_again_then_proceeds(
    signed_in: HttpClient, confidential_client: RegisteredClient, user: User
) -> None:
    url = authorize_url(confidential_client, prompt="login")

    back_to = next_of(signed_in.get(url))
    skipped = signed_in.get(back_to)  # coming straight back without signing in does not count
    signed_in.post(
        "/accounts/login/", {"username": user.username, "password": PASSWORD, "next": back_to}
    )
    after_login = signed_in.get(back_to)

    assert skipped["Location"].startswith("/accounts/login/")
    assert after_login.status_code == HTTPStatus.OK  # the consent page


def test_prompt_login_when_signed_out_needs_one_sign_in(
    browser: HttpClient, confidential_client: RegisteredClient, user: User
) -> None:
    back_to = next_of(browser.get(authorize_url(confidential_client, prompt="login")))

    signed = browser.post(
        "/accounts/login/", {"username": user.username, "password": PASSWORD, "next": back_to}
    )

    assert signed["Location"] == back_to
    assert browser.get(back_to).status_code == HTTPStatus.OK


def test_prompt_login_lets_someone_else_sign_in(
    signed_in: HttpClient, confidential_client: RegisteredClient, make_user: Any
) -> None:
    make_user("bob")
    back_to = next_of(signed_in.get(authorize_url(confidential_client, prompt="login")))

    signed_in.post("/accounts/login/", {"username": "bob", "password": PASSWORD, "next": back_to})
    consent = signed_in.get(back_to)

    assert consent.status_code == HTTPStatus.OK
    assert "bob" in consent.content.decode()


def test_forged_reauthentication_note_does_not_count(
    signed_in: HttpClient, confidential_client: RegisteredClient
) -> None:
    url = authorize_url(confidential_client, prompt="login", login_required_after="forged")

    assert signed_in.get(url)["Location"].startswith("/accounts/login/")


def test_prompt_select_account_shows_the_sign_in_page(
    signed_in: HttpClient, make_client: Callable[..., RegisteredClient]
) -> None:
    """Where another account can be chosen (OIDC Core §3.1.2.1)."""
    client = make_client(first_party=True)

    response = signed_in.get(authorize_url(client, prompt="select_account"))

    assert response["Location"].startswith("/accounts/login/")


def test_max_age_exceeded_requires_signing_in_again(
    browser: HttpClient, confidential_client: RegisteredClient, user: User
) -> None:
    with time_machine.travel("2030-01-01 10:00:00", tick=False):
        browser.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    with time_machine.travel("2030-01-01 10:10:00", tick=False):
        fresh_enough = browser.get(authorize_url(confidential_client, max_age="900"))
        too_old = browser.get(authorize_url(confidential_client, max_age="300"))
        silent = browser.get(authorize_url(confidential_client, max_age="300", prompt="none"))

    assert fresh_enough.status_code == HTTPStatus.OK
    assert too_old["Location"].startswith("/accounts/login/")
    assert query(silent["Location"])["error"] == "login_required"


def test_max_age_must_be_a_number(
    signed_in: HttpClient, confidential_client: RegisteredClient
) -> None:
    response = signed_in.get(authorize_url(confidential_client, max_age="soon"))

    assert query(response["Location"])["error"] == "invalid_request"


def id_token_for(person: User, client: RegisteredClient, **claims: Any) -> str:
    """An id_token this server signed for `client` about `person` (as its token endpoint does)."""
    from oauth.keys import active_signing_key

    values = {"iss": settings.ISSUER, "sub": str(person.sub), "aud": client.client_id, **claims}
    return jwt.encode({"alg": "RS256"}, values, active_signing_key("RS256"))


def test_an_id_token_hint_naming_the_signed_in_person_is_answered_even_expired(
    signed_in: HttpClient,
    exchange: Callable[..., dict[str, Any]],
    confidential_client: RegisteredClient,
) -> None:
    hint = exchange(confidential_client)["id_token"]

    with time_machine.travel(time.time() + 86400):
        response = signed_in.get(
            authorize_url(confidential_client, prompt="none", id_token_hint=hint)
        )

    assert "code" in query(response["Location"])


def test_an_id_token_hint_naming_someone_else_is_never_answered_for_the_signed_in_person(
    signed_in: HttpClient,
    user: User,
    make_client: Callable[..., RegisteredClient],
    make_user: Callable[..., User],
) -> None:
    """OIDC Core §3.1.2.1: silently, login_required; otherwise the person signs in afresh, and
    if that is still not the hinted person, login_required."""
    client = make_client(first_party=True)
    hint = id_token_for(make_user("bob"), client)

    silent = signed_in.get(authorize_url(client, prompt="none", id_token_hint=hint))
    back_to = next_of(signed_in.get(authorize_url(client, id_token_hint=hint)))
    signed_in.post(
        "/accounts/login/", {"username": user.username, "password": PASSWORD, "next": back_to}
    )
    after_signing_in_as_herself = signed_in.get(back_to)

    assert query(silent["Location"])["error"] == "login_required"
    assert query(after_signing_in_as_herself["Location"])["error"] == "login_required"
    assert not AuthorizationCode.objects.exists()


def test_signed_out_the_hinted_person_signs_in_once(
    browser: HttpClient, make_client: Callable[..., RegisteredClient], user: User
) -> None:
    client = make_client(first_party=True)
    back_to = next_of(browser.get(authorize_url(client, id_token_hint=id_token_for(user, client))))

    browser.post(
        "/accounts/login/", {"username": user.username, "password": PASSWORD, "next": back_to}
    )

    assert "code" in query(browser.get(back_to)["Location"])


@pytest.mark.parametrize(
    "hint",
    ["not-a-jwt", "a.b.c", "forged", "other-issuer", "other-client", "an-access-token"],
)
def test_an_id_token_hint_that_this_server_did_not_issue_to_the_client_is_invalid_request(
    signed_in: HttpClient,
    make_client: Callable[..., RegisteredClient],
    user: User,
    exchange: Callable[..., dict[str, Any]],
    hint: str,
) -> None:
    """Checked, so that no client can ask whether the visitor is someone it has no id_token of."""
    client = make_client(first_party=True)
    real = id_token_for(user, client)
    hints = {
        "forged": real.rsplit(".", 1)[0] + ".c2lnbmF0dXJl",
        "other-issuer": id_token_for(user, client, iss="https://elsewhere.example"),
        "other-client": id_token_for(user, client, aud="someone-else"),
        "an-access-token": exchange(client)["access_token"],
    }

    response = signed_in.get(authorize_url(client, id_token_hint=hints.get(hint, hint)))

    assert query(response["Location"])["error"] == "invalid_request"


def test_an_id_token_hint_whose_key_is_no_longer_published_is_ignored(
    signed_in: HttpClient,
    make_client: Callable[..., RegisteredClient],
    make_user: Callable[..., User],
) -> None:
    client = make_client(first_party=True)
    gone = jwt.encode(
        {"alg": "RS256", "kid": "long-retired"},
        {"iss": settings.ISSUER, "sub": "someone", "aud": client.client_id},
        RSAKey.generate_key(2048),
    )

    response = signed_in.get(authorize_url(client, prompt="none", id_token_hint=gone))

    assert "code" in query(response["Location"])
