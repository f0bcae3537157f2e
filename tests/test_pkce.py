"""PKCE: RFC 7636 with S256 only (RFC 9700 §2.1.1), required of public clients, and no
downgrade (RFC 9700 §4.8.2)."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client as HttpClient

from oauth.models import AuthorizationCode, Grant
from tests.conftest import Pkce, RegisteredClient, authorize_url, query


def code_request(client: RegisteredClient, code: str, **extra: str) -> dict[str, str]:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": client.model.redirect_uris[0],
        "client_id": client.client_id,
    }
    data.update(extra)
    return data


def test_public_client_gets_tokens_with_s256(
    exchange: Callable[..., dict[str, Any]], public_client: RegisteredClient, pkce: Pkce
) -> None:
    tokens = exchange(public_client, pkce)

    assert {"access_token", "refresh_token", "id_token"} <= tokens.keys()


def test_public_client_without_code_challenge_is_refused_at_authorize(
    signed_in: HttpClient, public_client: RegisteredClient
) -> None:
    response = signed_in.get(authorize_url(public_client))

    params = query(response["Location"])
    assert params["error"] == "invalid_request"
    assert "code_challenge" in params["error_description"]


@pytest.mark.parametrize("method", ["plain", None, "s256", "S512"])
def test_challenge_methods_other_than_s256_are_refused(
    signed_in: HttpClient, public_client: RegisteredClient, pkce: Pkce, method: str | None
) -> None:
    response = signed_in.get(
        authorize_url(
            public_client,
            code_challenge=pkce.challenge,
            code_challenge_method=method,
        )
    )

    assert query(response["Location"])["error"] == "invalid_request"
    assert not AuthorizationCode.objects.exists()


@pytest.mark.parametrize(
    "verifier",
    [None, "", "wrong-" + "x" * 60, "too-short", "bad characters!" * 4],
    ids=["missing", "empty", "wrong", "short", "malformed"],
)
def test_missing_or_wrong_code_verifier_is_invalid_grant(
    obtain_code: Callable[..., str],
    token_request: Callable[..., Any],
    public_client: RegisteredClient,
    pkce: Pkce,
    verifier: str | None,
) -> None:
    code = obtain_code(public_client, pkce)
    extra = {} if verifier is None else {"code_verifier": verifier}

    response = token_request(code_request(public_client, code, **extra))

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == "invalid_grant"
    assert AuthorizationCode.objects.get().issued_grant is None
    assert not Grant.objects.exists()


@pytest.mark.parametrize("verifier", ["a" * 42, "a" * 129, "not allowed here!" * 3])
def test_a_verifier_outside_rfc_7636s_rules_is_refused_even_when_it_matches(
    obtain_code: Callable[..., str],
    token_request: Callable[..., Any],
    public_client: RegisteredClient,
    verifier: str,
) -> None:
    """RFC 7636 §4.1: 43 to 128 characters of [A-Za-z0-9-._~]; a challenge made from anything
    else proves nothing about the randomness behind it."""
    pkce = Pkce(verifier=verifier)
    code = obtain_code(public_client, pkce)

    response = token_request(code_request(public_client, code, code_verifier=verifier))

    assert response.json()["error"] == "invalid_grant"
    assert not Grant.objects.exists()


def test_confidential_client_may_use_pkce_and_then_must_send_the_verifier(
    obtain_code: Callable[..., str],
    token_request: Callable[..., Any],
    confidential_client: RegisteredClient,
    pkce: Pkce,
) -> None:
    auth = (confidential_client.client_id, confidential_client.secret)
    code = obtain_code(confidential_client, pkce)
    data = code_request(confidential_client, code)
    del data["client_id"]

    downgraded = token_request(data, auth=auth)
    with_verifier = token_request({**data, "code_verifier": pkce.verifier}, auth=auth)

    assert downgraded.json()["error"] == "invalid_grant"
    assert with_verifier.status_code == HTTPStatus.OK


def test_verifier_for_a_code_issued_without_challenge_is_refused(
    obtain_code: Callable[..., str],
    token_request: Callable[..., Any],
    confidential_client: RegisteredClient,
    pkce: Pkce,
) -> None:
    code = obtain_code(confidential_client)
    data = code_request(confidential_client, code, code_verifier=pkce.verifier)
    del data["client_id"]

    response = token_request(data, auth=(confidential_client.client_id, confidential_client.secret))

    assert response.json()["error"] == "invalid_grant"


def test_confidential_client_without_pkce_still_works(
    exchange: Callable[..., dict[str, Any]], confidential_client: RegisteredClient
) -> None:
    assert "access_token" in exchange(confidential_client)
