"""Attacks from the OAuth 2.0 Security Best Current Practice (RFC 9700 §4), each as a scenario
that must fail for the attacker."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

import time_machine
from django.conf import settings
from django.test import Client as HttpClient
from django.utils import timezone

from oauth.models import Grant
from tests.conftest import HttpsClient, Pkce, RegisteredClient, authorize_url, basic_auth, query


def test_code_injection_with_a_code_stolen_from_another_client(
    obtain_code: Callable[..., str],
    exchange_code: Callable[..., Any],
    make_client: Callable[..., RegisteredClient],
) -> None:
    """RFC 9700 §4.5: a code is bound to the client it was issued to."""
    victim_app, attacker_app = make_client(), make_client()
    stolen = obtain_code(victim_app)

    response = exchange_code(attacker_app, stolen)

    assert response.json()["error"] == "invalid_grant"
    assert not Grant.objects.exists()


def test_code_injection_into_another_session(
    obtain_code: Callable[..., str],
    exchange_code: Callable[..., Any],
    public_client: RegisteredClient,
) -> None:
    """RFC 9700 §4.5.3: the victim's code, injected into the attacker's session of the same
    app, fails PKCE: the attacker's session holds another code_verifier."""
    victims_session, attackers_session = Pkce(), Pkce()
    stolen = obtain_code(public_client, victims_session)

    response = exchange_code(public_client, stolen, attackers_session)

    assert response.json()["error"] == "invalid_grant"


def test_pkce_downgrade(
    obtain_code: Callable[..., str],
    exchange_code: Callable[..., Any],
    confidential_client: RegisteredClient,
    signed_in: HttpClient,
) -> None:
    """RFC 9700 §4.8.2: once a challenge was sent, the code is worthless without the verifier;
    and `plain` is never accepted."""
    pkce = Pkce()
    code = obtain_code(confidential_client, pkce)

    assert exchange_code(confidential_client, code).json()["error"] == "invalid_grant"
    plain = signed_in.get(authorize_url(confidential_client, code_challenge=pkce.verifier,
                                        code_challenge_method="plain"))  # fmt: skip
    assert query(plain["Location"])["error"] == "invalid_request"


def test_mix_up_every_authorization_response_names_its_issuer(
    signed_in: HttpClient,
    confidential_client: RegisteredClient,
    make_client: Callable[..., RegisteredClient],
    browser: HttpClient,
) -> None:
    """RFC 9207 / RFC 9700 §4.4: a client talking to several servers can tell which answered."""
    responses = [
        signed_in.post(authorize_url(confidential_client), {"decision": "allow"}),
        signed_in.post(authorize_url(confidential_client), {"decision": "deny"}),
        signed_in.get(authorize_url(confidential_client, scope="admin")),
        signed_in.get(authorize_url(make_client(first_party=True))),
        HttpsClient().get(authorize_url(confidential_client, prompt="none")),
    ]

    for response in responses:
        assert query(response["Location"])["iss"] == settings.ISSUER
    metadata = browser.get("/.well-known/openid-configuration").json()
    assert metadata["authorization_response_iss_parameter_supported"] is True


def test_open_redirects_through_redirect_uri_or_next(
    signed_in: HttpClient, confidential_client: RegisteredClient, user: Any
) -> None:
    """RFC 9700 §4.11: never send a person to an address nobody registered."""
    for redirect_uri in ("https://evil.example/", "https://app.example.com/callback/../evil",
                         "https://app.example.com.evil.example/callback"):  # fmt: skip
        response = signed_in.get(authorize_url(confidential_client, redirect_uri=redirect_uri))
        assert response.status_code == HTTPStatus.BAD_REQUEST and "Location" not in response
    from tests.conftest import PASSWORD

    login = HttpsClient().post("/accounts/login/", {"username": "alice", "password": PASSWORD,
                                                    "next": "https://evil.example/"})  # fmt: skip
    assert login["Location"] == "/accounts/"


def test_csrf_on_the_upstream_callback(browser: HttpClient, upstream: Any) -> None:
    """RFC 9700 §4.7: a callback carrying the state of someone else's session signs no one in."""
    import requests as http

    from tests.test_upstream_login import leave_for

    attackers = HttpsClient()
    to_provider = leave_for(attackers, "naver")
    back = http.get(to_provider, allow_redirects=False, timeout=10).headers["Location"]
    path = back.split("://", 1)[1].split("/", 1)[1]

    response = browser.get("/" + path)  # the victim's browser, lured onto the attacker's link

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "_auth_user_id" not in browser.session


def test_refresh_token_theft_ends_the_grant_for_thief_and_owner(
    exchange: Callable[..., dict[str, Any]],
    token_request: Callable[..., Any],
    confidential_client: RegisteredClient,
) -> None:
    """RFC 9700 §4.14.2: whoever comes second with a rotated token, after the retry grace,
    reveals the theft. (Within the grace the thief gets the owner's own answer, and the next
    rotation reveals it: tests/test_refresh_retry.py.)"""
    auth = (confidential_client.client_id, confidential_client.secret)
    stolen = exchange(confidential_client)["refresh_token"]
    owner = token_request({"grant_type": "refresh_token", "refresh_token": stolen}, auth=auth)

    with time_machine.travel(timezone.now() + timedelta(seconds=settings.REFRESH_RETRY_GRACE)):
        thief = token_request({"grant_type": "refresh_token", "refresh_token": stolen}, auth=auth)
        owner_next = token_request(
            {"grant_type": "refresh_token", "refresh_token": owner.json()["refresh_token"]},
            auth=auth,
        )

    assert thief.json()["error"] == "invalid_grant"
    assert owner_next.json()["error"] == "invalid_grant"
    assert Grant.objects.get().revoked_at is not None


def test_a_revoked_access_token_replayed(
    exchange: Callable[..., dict[str, Any]],
    browser: HttpClient,
    confidential_client: RegisteredClient,
) -> None:
    tokens = exchange(confidential_client)
    auth = basic_auth(confidential_client.client_id, confidential_client.secret or "")
    form = "application/x-www-form-urlencoded"
    browser.post("/oauth/revoke", urlencode({"token": tokens["access_token"]}), form,
                 HTTP_AUTHORIZATION=auth)  # fmt: skip

    introspected = browser.post("/oauth/introspect", urlencode({"token": tokens["access_token"]}),
                                form, HTTP_AUTHORIZATION=auth)  # fmt: skip
    userinfo = browser.get("/oauth/userinfo", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")

    assert introspected.json() == {"active": False}
    assert userinfo.status_code == HTTPStatus.UNAUTHORIZED


def test_a_disabled_clients_tokens(
    exchange: Callable[..., dict[str, Any]],
    browser: HttpClient,
    token_request: Callable[..., Any],
    make_client: Callable[..., RegisteredClient],
) -> None:
    app, resource_server = make_client(), make_client(introspect_any_token=True)
    tokens = exchange(app)
    app.change(is_active=False)

    refresh = token_request(
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(app.client_id, app.secret),
    )
    introspected = browser.post(
        "/oauth/introspect", urlencode({"token": tokens["access_token"]}),
        "application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic_auth(resource_server.client_id, resource_server.secret or ""),
    )  # fmt: skip
    userinfo = browser.get("/oauth/userinfo", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")

    assert refresh.json()["error"] == "invalid_client"
    assert introspected.json() == {"active": False}
    assert userinfo.status_code == HTTPStatus.UNAUTHORIZED
