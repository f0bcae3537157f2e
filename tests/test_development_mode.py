"""Development and live modes: a client in development may be authorized only by its team and
the testers it names; anyone else is told so on a page, and the client hears `access_denied`
(RFC 6749 §4.1.2.1). The consent page marks an app that has not been reviewed. Which redirect
URIs each kind of app may register (RFC 8252 §7 for native apps)."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import Client as HttpClient

from accounts.models import User
from developers.team import member_remove
from oauth.clients import client_register
from oauth.models import AuthorizationCode, Client, ClientMember, Consent
from tests.conftest import RegisteredClient, authorize_url, query


@pytest.fixture
def in_development(make_client: Callable[..., RegisteredClient]) -> RegisteredClient:
    return make_client(
        name="Draft app",
        live=False,
        privacy_policy_uri="https://draft.example/privacy",
        terms_uri="https://draft.example/terms",
    )


def test_clients_made_by_operators_are_live(confidential_client: RegisteredClient) -> None:
    assert confidential_client.model.live is True
    assert confidential_client.model.kind == ""


@pytest.mark.parametrize("role", ["owner", "developer", "viewer", "tester"])
def test_the_team_and_testers_may_authorize_a_client_in_development(
    signed_in: HttpClient, user: User, in_development: RegisteredClient, role: str
) -> None:
    ClientMember.objects.create(client=in_development.model, user=user, role=role)

    response = signed_in.get(authorize_url(in_development))

    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert f"has not been reviewed by {settings.SERVER_NAME}" in page
    assert 'href="https://draft.example/privacy"' in page
    assert 'href="https://draft.example/terms"' in page
    allowed = signed_in.post(authorize_url(in_development), {"decision": "allow"})
    assert "code" in query(allowed["Location"])


def test_anyone_else_is_told_and_the_client_hears_access_denied(
    signed_in: HttpClient, make_user: Callable[..., User], in_development: RegisteredClient
) -> None:
    ClientMember.objects.create(client=in_development.model, user=make_user("bob"), role="owner")

    response = signed_in.get(authorize_url(in_development, state="s1"))

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response["Cache-Control"] == "no-store"
    page = response.content.decode()
    assert "still in development" in page
    back = response.context["back"]
    assert back.startswith(in_development.model.redirect_uris[0] + "?")
    assert query(back) | {"error_description": ""} == {
        "error": "access_denied",
        "state": "s1",
        "iss": settings.ISSUER,
        "error_description": "",
    }
    assert not AuthorizationCode.objects.exists()


def test_anyone_else_asking_silently_hears_access_denied(
    signed_in: HttpClient, in_development: RegisteredClient
) -> None:
    response = signed_in.get(authorize_url(in_development, prompt="none"))

    assert response.status_code == HTTPStatus.FOUND
    assert query(response["Location"])["error"] == "access_denied"


def test_the_page_speaks_korean(signed_in: HttpClient, in_development: RegisteredClient) -> None:
    response = signed_in.get(authorize_url(in_development, ui_locales="ko"))

    assert "개발 중" in response.content.decode()


def test_a_live_client_is_not_marked(
    signed_in: HttpClient, confidential_client: RegisteredClient
) -> None:
    page = signed_in.get(authorize_url(confidential_client)).content.decode()

    assert "has not been reviewed" not in page


def kinded(kind: str, uris: list[str], *, public: bool) -> Client:
    return Client(
        name=f"{kind} app",
        kind=kind,
        redirect_uris=uris,
        client_type=Client.Type.PUBLIC if public else Client.Type.CONFIDENTIAL,
    )


@pytest.mark.parametrize(
    ("kind", "public", "uri"),
    [
        ("web", False, "https://web.example/cb"),
        ("web", False, "http://localhost:8000/cb"),
        ("spa", True, "https://spa.example/cb"),
        ("native", True, "https://native.example/cb"),
        ("native", True, "http://127.0.0.1/cb"),
        ("native", True, "http://[::1]/cb"),
        ("native", True, "com.example.app:/oauth2redirect"),
    ],
)
def test_each_kind_of_app_registers_its_own_redirect_uris(
    db: None, kind: str, public: bool, uri: str
) -> None:
    client_register(kinded(kind, [uri], public=public))


@pytest.mark.parametrize(
    ("kind", "public", "uri"),
    [
        ("web", True, "https://web.example/cb"),  # a web server app keeps a secret
        ("spa", False, "https://spa.example/cb"),
        ("web", False, "com.example.app:/cb"),
        ("spa", True, "com.example.app:/cb"),
        ("native", True, "http://localhost/cb"),  # RFC 8252 §8.3
        ("native", True, "myapp:/cb"),  # not a reversed domain name
        ("native", True, "com.example.app://host/cb"),
        ("native", True, "com.example.app:/cb#x"),
        ("native", True, "javascript:/alert(1)"),
        ("native", True, "http://example.com/cb"),
        ("", True, "com.example.app:/cb"),  # operators' clients have no kind
    ],
)
def test_other_redirect_uris_are_refused(db: None, kind: str, public: bool, uri: str) -> None:
    client = kinded(kind, [uri], public=public)

    with pytest.raises(ValidationError):
        client_register(client)
    assert not Client.objects.exists()


def test_our_own_native_apps_may_use_a_private_use_scheme(db: None) -> None:
    client = Client(
        name="Our phone app", redirect_uris=["com.example.ours:/cb"], native=True,
        client_type=Client.Type.PUBLIC, first_party=True,
    )  # fmt: skip

    client_register(client)


def renewal(tokens: dict[str, Any]) -> dict[str, str]:
    return {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}


def test_a_person_taken_off_an_app_in_development_loses_what_they_authorized(
    signed_in: HttpClient,
    user: User,
    in_development: RegisteredClient,
    exchange: Callable[..., dict[str, Any]],
    token_request: Callable[..., Any],
) -> None:
    tester = ClientMember.objects.create(client=in_development.model, user=user, role="tester")
    tokens = exchange(in_development)

    member_remove(member=tester)

    again = token_request(renewal(tokens), auth=(in_development.client_id, in_development.secret))
    assert again.status_code == HTTPStatus.BAD_REQUEST
    assert not Consent.objects.filter(user=user, client=in_development.model).exists()


def test_people_using_a_live_app_keep_it_when_taken_off_its_testers(
    signed_in: HttpClient,
    user: User,
    confidential_client: RegisteredClient,
    exchange: Callable[..., dict[str, Any]],
    token_request: Callable[..., Any],
) -> None:
    tester = ClientMember.objects.create(client=confidential_client.model, user=user, role="tester")
    tokens = exchange(confidential_client)

    member_remove(member=tester)

    auth = (confidential_client.client_id, confidential_client.secret)
    assert token_request(renewal(tokens), auth=auth).status_code == HTTPStatus.OK
