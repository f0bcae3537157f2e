"""Exchanging a code: RFC 6749 §4.1.3 and §4.1.4 (the same redirect_uri, the same client),
§4.1.2 and §10.5 (short-lived, single use, a replay revokes what the code gave), §5.2
(invalid_grant); OpenID Connect Core §3.1.3.6 (nonce and auth_time in the id_token)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from http import HTTPStatus
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.test import Client as HttpClient

from accounts.models import User
from oauth import services
from oauth.models import AuthorizationCode, Grant
from tests.conftest import RegisteredClient, authorize_url, query


def test_code_is_exchanged_once_for_tokens(
    obtain_code: Callable[..., str],
    token_request: Callable[..., Any],
    confidential_client: RegisteredClient,
) -> None:
    code = obtain_code(confidential_client)
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": ""}
    data["redirect_uri"] = confidential_client.model.redirect_uris[0]
    auth = (confidential_client.client_id, confidential_client.secret)

    response = token_request(data, auth=auth)

    assert response.status_code == HTTPStatus.OK
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == settings.ACCESS_TOKEN_LIFETIME
    assert body["scope"] == "openid profile email"
    assert {"access_token", "refresh_token", "id_token"} <= body.keys()
    assert Grant.objects.get().user.username == "alice"


def test_replayed_code_fails_and_revokes_the_tokens_of_its_first_use(
    obtain_code: Callable[..., str],
    token_request: Callable[..., Any],
    confidential_client: RegisteredClient,
    browser: HttpClient,
) -> None:
    code = obtain_code(confidential_client)
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": confidential_client.model.redirect_uris[0],
    }
    auth = (confidential_client.client_id, confidential_client.secret)
    first = token_request(data, auth=auth).json()

    replay = token_request(data, auth=auth)
    refresh = token_request(
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}, auth=auth
    )

    assert replay.status_code == HTTPStatus.BAD_REQUEST
    assert replay.json()["error"] == "invalid_grant"
    assert refresh.json()["error"] == "invalid_grant"
    assert Grant.objects.get().revoked_at is not None
    # Clearing revoked grants must not make the code look unused while it is still live.
    call_command("cleartokens", stdout=StringIO())
    assert token_request(data, auth=auth).json()["error"] == "invalid_grant"
    assert Grant.objects.get().revoked_at is not None


def test_a_code_replayed_after_it_expired_still_revokes_the_tokens_of_its_first_use(
    obtain_code: Callable[..., str],
    exchange_code: Callable[..., Any],
    token_request: Callable[..., Any],
    confidential_client: RegisteredClient,
) -> None:
    code = obtain_code(confidential_client)
    first = exchange_code(confidential_client, code).json()

    with time_machine.travel(time.time() + settings.AUTHORIZATION_CODE_LIFETIME + 1):
        replay = exchange_code(confidential_client, code)
        refresh = token_request(
            {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
            auth=(confidential_client.client_id, confidential_client.secret),
        )

    assert replay.json()["error"] == "invalid_grant"
    assert refresh.json()["error"] == "invalid_grant"
    assert Grant.objects.get().revoked_at is not None


@pytest.mark.parametrize("meanwhile", ["revoked", "cleared"])
def test_a_code_voided_or_cleared_after_it_was_read_starts_no_grant(
    obtain_code: Callable[..., str],
    confidential_client: RegisteredClient,
    user: User,
    meanwhile: str,
) -> None:
    """The interleaving of an exchange with a person revoking the app, or with cleartokens
    (the code expiring in between): no live grant, and no database error (a 500)."""
    client = confidential_client.model
    found = services.code_find(code=obtain_code(confidential_client), client=client)
    assert found is not None
    if meanwhile == "revoked":
        services.consent_withdraw(user=user, client=client)
    else:
        AuthorizationCode.objects.filter(pk=found.pk).delete()

    with pytest.raises(services.CodeGone):
        services.code_exchange(code=found, grant_id=uuid.uuid4(), refresh_token="r" * 43)

    assert not Grant.objects.exists()


def test_a_code_of_a_person_disabled_since_is_refused(
    obtain_code: Callable[..., str],
    token_request: Callable[..., Any],
    confidential_client: RegisteredClient,
    user: User,
) -> None:
    code = obtain_code(confidential_client)
    User.objects.filter(pk=user.pk).update(is_active=False)

    response = token_request(
        {"grant_type": "authorization_code", "code": code,
         "redirect_uri": confidential_client.model.redirect_uris[0]},
        auth=(confidential_client.client_id, confidential_client.secret),
    )  # fmt: skip

    assert response.json()["error"] == "invalid_grant"
    assert not Grant.objects.exists()


def test_code_expires_after_its_lifetime(
    browser: HttpClient,
    user: User,
    token_request: Callable[..., Any],
    make_client: Callable[..., RegisteredClient],
) -> None:
    confidential_client = make_client(first_party=True)
    with time_machine.travel("2030-01-01 10:00:00", tick=False):
        browser.force_login(user)
        code = query(browser.get(authorize_url(confidential_client))["Location"])["code"]
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": confidential_client.model.redirect_uris[0],
    }
    auth = (confidential_client.client_id, confidential_client.secret)

    with time_machine.travel("2030-01-01 10:01:01", tick=False):
        late = token_request(data, auth=auth)
    with time_machine.travel("2030-01-01 10:00:59", tick=False):
        in_time = token_request(data, auth=auth)

    assert late.json()["error"] == "invalid_grant"
    assert in_time.status_code == HTTPStatus.OK


@pytest.mark.parametrize(
    "redirect_uri", ["https://app.example.com/other", "", None], ids=["other", "empty", "missing"]
)
def test_code_needs_the_same_redirect_uri(
    obtain_code: Callable[..., str],
    token_request: Callable[..., Any],
    confidential_client: RegisteredClient,
    redirect_uri: str | None,
) -> None:
    data = {"grant_type": "authorization_code", "code": obtain_code(confidential_client)}
    if redirect_uri is not None:
        data["redirect_uri"] = redirect_uri

    response = token_request(data, auth=(confidential_client.client_id, confidential_client.secret))

    assert response.json()["error"] == "invalid_grant"
    assert not Grant.objects.exists()
    assert AuthorizationCode.objects.get().issued_grant is None


def test_code_issued_to_another_client_is_invalid_grant(
    obtain_code: Callable[..., str],
    token_request: Callable[..., Any],
    make_client: Callable[..., RegisteredClient],
) -> None:
    victim, attacker = make_client(), make_client()
    data = {
        "grant_type": "authorization_code",
        "code": obtain_code(victim),
        "redirect_uri": victim.model.redirect_uris[0],
    }

    response = token_request(data, auth=(attacker.client_id, attacker.secret))

    assert response.json()["error"] == "invalid_grant"
    assert AuthorizationCode.objects.get().issued_grant is None


def test_nonce_and_auth_time_reach_the_id_token(
    exchange: Callable[..., dict[str, Any]], confidential_client: RegisteredClient
) -> None:
    import jwt

    tokens = exchange(confidential_client, nonce="n-0S6_WzA2Mj")
    claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})

    assert claims["nonce"] == "n-0S6_WzA2Mj"
    assert isinstance(claims["auth_time"], int)
