"""Dynamic client registration (RFC 7591) and client configuration (RFC 7592): an initial
access token is needed (§3: without one, or a wrong, expired or used-up one, 401); the client
joins the token owner's team in development unless the token is live; redirect URIs follow
RFC 8252 (§3.2.2: invalid_redirect_uri), other bad metadata is invalid_client_metadata, unknown
fields are ignored (§2); the registration access token reads, updates (a new one each time) and
deletes the client."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from http import HTTPStatus
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client as HttpClient

from accounts.models import User
from developers.models import InitialAccessToken, RegistrationAccess
from developers.tokens import initial_token_create
from oauth.hashing import secret_matches
from oauth.models import Client, ClientMember
from tests.conftest import HttpsClient

METADATA = {
    "client_name": "Registered app",
    "redirect_uris": ["https://registered.example/cb"],
    "grant_types": ["authorization_code", "refresh_token"],
    "scope": "openid profile",
    "client_uri": "https://registered.example/",
    "policy_uri": "https://registered.example/privacy",
}


@pytest.fixture
def initial_token(user: User) -> str:
    return initial_token_create(owner_id=user.pk, max_clients=3)[1]


def register(token: str | None, metadata: Any = None, **headers: Any) -> Any:
    body = metadata if isinstance(metadata, (str, bytes)) else json.dumps(metadata or METADATA)
    if token is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return HttpsClient().post("/oauth/register", body, "application/json", **headers)


def configuration(method: str, uri: str, token: str, body: Any = None) -> Any:
    browser = HttpsClient()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    path = uri.split("://", 1)[1].split("/", 1)[1]
    if method == "PUT":
        return browser.put(f"/{path}", json.dumps(body), "application/json", **auth)
    return getattr(browser, method.lower())(f"/{path}", **auth)


def test_a_client_registers_and_joins_the_owners_team_in_development(
    db: None, user: User, initial_token: str
) -> None:
    response = register(initial_token, {**METADATA, "first_party": True, "client_id": "mine",
                                        "client_secret": "mine", "unknown_field": [1]})  # fmt: skip

    assert response.status_code == HTTPStatus.CREATED
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    client = Client.objects.get(client_id=body["client_id"])
    assert body["client_id"] != "mine" and body["client_secret"] != "mine"
    assert secret_matches(body["client_secret"], client.secret_hash)
    assert not client.first_party and not client.live and client.kind == "web"
    assert client.privacy_policy_uri == "https://registered.example/privacy"
    assert ClientMember.objects.get(client=client).user == user
    assert body["registration_client_uri"].endswith(f"/oauth/register/{client.client_id}")
    assert secret_matches(
        body["registration_access_token"], RegistrationAccess.objects.get().token_hash
    )
    assert "unknown_field" not in body


def test_a_live_token_registers_live_clients(db: None, user: User) -> None:
    token = initial_token_create(owner_id=user.pk, live=True)[1]

    client_id = register(token).json()["client_id"]

    assert Client.objects.get(client_id=client_id).live


def test_the_command_prints_a_token_on_its_last_line(db: None, user: User) -> None:
    out = StringIO()
    call_command("registrationtoken", "--owner", "alice", "--max-clients", "2",
                 "--expires-in", "600", "--live", stdout=out)  # fmt: skip

    token = out.getvalue().strip().splitlines()[-1]
    stored = InitialAccessToken.objects.get()
    assert secret_matches(token, stored.token_hash) and stored.max_clients == 2 and stored.live
    assert register(token).status_code == HTTPStatus.CREATED


@pytest.mark.parametrize("header", [None, "Bearer wrong", "Basic abc", "Bearer ", "Bearer é"])
def test_without_a_good_initial_token_401(db: None, header: str | None) -> None:
    headers = {"HTTP_AUTHORIZATION": header} if header is not None else {}
    response = register(None, **headers)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"] == "invalid_token"
    assert not Client.objects.exists()


def test_an_expired_or_used_up_token_is_401(db: None, user: User) -> None:
    expired = initial_token_create(owner_id=user.pk, expires_in=timedelta(seconds=1))
    InitialAccessToken.objects.filter(pk=expired[0].pk).update(
        expires_at=expired[0].created_at - timedelta(seconds=1)
    )
    once = initial_token_create(owner_id=user.pk, max_clients=1)[1]

    assert register(expired[1]).status_code == HTTPStatus.UNAUTHORIZED
    assert register(once).status_code == HTTPStatus.CREATED
    again = register(once, {**METADATA, "client_name": "Second"})
    assert again.status_code == HTTPStatus.UNAUTHORIZED
    assert Client.objects.count() == 1


PUBLIC = {"token_endpoint_auth_method": "none"}


@pytest.mark.parametrize(
    ("metadata", "kind"),
    [
        ({"redirect_uris": ["https://spa.example/cb"], **PUBLIC}, "spa"),
        ({"redirect_uris": ["http://127.0.0.1/cb"], **PUBLIC}, "native"),
        ({"redirect_uris": ["com.example.app:/cb"], **PUBLIC}, "native"),
        (
            {"redirect_uris": ["https://n.example/cb"], "application_type": "native", **PUBLIC},
            "native",
        ),
    ],
)
def test_public_clients_register_by_rfc_8252(
    db: None, initial_token: str, metadata: dict[str, Any], kind: str
) -> None:
    response = register(initial_token, metadata)

    assert response.status_code == HTTPStatus.CREATED, response.json()
    assert "client_secret" not in response.json()
    client = Client.objects.get()
    assert client.kind == kind and client.is_public


@pytest.mark.parametrize(
    "uris",
    [
        ["http://registered.example/cb"],
        ["http://localhost:8080/cb"],  # plain http: native apps on loopback only
        ["http://127.0.0.1:8080/cb"],  # a confidential client is no native app
        ["https://registered.example/cb#fragment"],
        ["https://user:pass@registered.example/cb"],
        ["javascript:alert(1)"],
        ["data:text/html,hi"],
        ["https://bücher.example/cb"],
        ["com.example.app:/cb"],  # a confidential client is no native app
        ["https://*.example/cb"],
        [],
        "https://registered.example/cb",
        [42],
        ["x" * 3000],
    ],
)
def test_bad_redirect_uris_are_invalid_redirect_uri(
    db: None, initial_token: str, uris: Any
) -> None:
    response = register(initial_token, {**METADATA, "redirect_uris": uris})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == "invalid_redirect_uri"
    assert not Client.objects.exists()
    assert InitialAccessToken.objects.get().registered == 0


@pytest.mark.parametrize(
    "changes",
    [
        {"scope": "openid admin"},
        {"grant_types": ["client_credentials"]},
        {"grant_types": ["refresh_token"]},
        {"response_types": ["token"]},
        {"token_endpoint_auth_method": "private_key_jwt"},
        {"client_uri": "javascript:alert(1)"},
        {"policy_uri": "http://registered.example/privacy"},
        {"client_name": {"a": 1}},
        {"client_name": "x" * 600},
        {"client_name": "bad\u202ename"},
        {"application_type": "tv"},
    ],
)
def test_other_bad_metadata_is_invalid_client_metadata(
    db: None, initial_token: str, changes: dict[str, Any]
) -> None:
    response = register(initial_token, {**METADATA, **changes})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == "invalid_client_metadata"
    assert not Client.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000 + "]" * 100_000,
        "[" * 30_000 + "]" * 30_000,
        '{"redirect_uris": ' + "[" * 30_000 + "]" * 30_000 + "}",
        json.dumps({"a": "x" * 200_000, **METADATA}),
        "[1, 2]",
        "not json",
        b"\xff\xfe",
        "null",
    ],
)
def test_huge_deep_or_broken_json_is_400(db: None, initial_token: str, body: Any) -> None:
    response = register(initial_token, body)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == "invalid_client_metadata"


def test_a_form_body_or_get_is_refused(db: None, initial_token: str) -> None:
    auth = {"HTTP_AUTHORIZATION": f"Bearer {initial_token}"}
    form = HttpsClient().post("/oauth/register", {"redirect_uris": "https://a.example/"}, **auth)
    get = HttpsClient().get("/oauth/register", **auth)

    assert form.status_code == HTTPStatus.BAD_REQUEST
    assert get.status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_the_registration_access_token_reads_updates_and_deletes(
    db: None, initial_token: str
) -> None:
    body = register(initial_token).json()
    uri, token = body["registration_client_uri"], body["registration_access_token"]

    read = configuration("GET", uri, token)
    assert read.status_code == HTTPStatus.OK
    assert read.json()["client_name"] == "Registered app" and "client_secret" not in read.json()

    update = {**METADATA, "client_id": body["client_id"], "client_name": "Renamed",
              "redirect_uris": ["https://registered.example/new"]}  # fmt: skip
    updated = configuration("PUT", uri, token, update)
    assert updated.status_code == HTTPStatus.OK, updated.json()
    new_token = updated.json()["registration_access_token"]
    client = Client.objects.get(client_id=body["client_id"])
    assert client.name == "Renamed" and client.redirect_uris == ["https://registered.example/new"]
    assert not client.first_party and not client.live

    assert configuration("GET", uri, token).status_code == HTTPStatus.UNAUTHORIZED
    assert configuration("GET", uri, "wrong").status_code == HTTPStatus.UNAUTHORIZED
    bad = configuration("PUT", uri, new_token, {**update, "redirect_uris": ["http://x.example/"]})
    assert bad.status_code == HTTPStatus.BAD_REQUEST
    assert bad.json()["error"] == "invalid_redirect_uri"

    assert configuration("DELETE", uri, new_token).status_code == HTTPStatus.NO_CONTENT
    assert not Client.objects.filter(client_id=body["client_id"]).exists()
    assert configuration("GET", uri, new_token).status_code == HTTPStatus.UNAUTHORIZED


def test_a_token_for_another_client_is_refused(db: None, initial_token: str) -> None:
    first = register(initial_token).json()
    second = register(initial_token, {**METADATA, "client_name": "Other"}).json()

    response = configuration(
        "GET", second["registration_client_uri"], first["registration_access_token"]
    )

    assert response.status_code in (HTTPStatus.BAD_REQUEST, HTTPStatus.UNAUTHORIZED, 403)
    assert Client.objects.count() == 2


def test_a_token_presented_for_a_client_that_does_not_exist_is_revoked(
    db: None, initial_token: str
) -> None:
    """RFC 7592 §2: authlib 1.9 calls revoke_access_token with its arguments swapped; the token
    is revoked all the same."""
    body = register(initial_token).json()
    token = body["registration_access_token"]
    missing = body["registration_client_uri"].rsplit("/", 1)[0] + "/no-such-client"

    response = configuration("GET", missing, token)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert not RegistrationAccess.objects.exists()
    assert configuration("GET", body["registration_client_uri"], token).status_code == 401


def test_discovery_advertises_the_registration_endpoint(browser: HttpClient) -> None:
    for path in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"):
        metadata = browser.get(path).json()
        assert metadata["registration_endpoint"] == metadata["issuer"] + "/oauth/register"


def test_console_made_tokens_are_held_to_the_console_limits(
    db: None, make_user: Callable[..., User]
) -> None:
    with pytest.raises(ValueError):
        initial_token_create(owner_id=make_user("x").pk, live=True, from_console=True)


def test_operators_make_tokens_in_the_admin_shown_once(
    db: None, user: User, make_user: Callable[..., User]
) -> None:
    operator = HttpsClient()
    operator.force_login(make_user("operator", is_staff=True, is_superuser=True))

    response = operator.post(
        "/admin/developers/initialaccesstoken/add/",
        {"owner": str(user.pk), "max_clients": "2", "expires_in": "3600", "live": "on"},
    )

    assert response.status_code == HTTPStatus.OK
    assert "no-store" in response["Cache-Control"]
    token = response.context["token"]
    stored = InitialAccessToken.objects.get()
    assert secret_matches(token, stored.token_hash) and stored.live and stored.max_clients == 2
    listing = operator.get("/admin/developers/initialaccesstoken/").content.decode()
    assert token not in listing
    assert register(token).status_code == HTTPStatus.CREATED


def test_app_owners_make_tokens_in_the_console(
    signed_in: HttpClient, user: User, make_client: Callable[..., Any]
) -> None:
    assert signed_in.post("/developers/registration-token", {"max_clients": "1",
                          "expires_in": "86400"}).status_code == 404  # fmt: skip
    owned = make_client(kind="web", live=False)
    ClientMember.objects.create(client=owned.model, user=user, role="owner")

    refused = signed_in.post(
        "/developers/registration-token", {"max_clients": "50", "expires_in": "86400"}
    )
    response = signed_in.post(
        "/developers/registration-token", {"max_clients": "2", "expires_in": "86400"}
    )

    assert refused.status_code == HTTPStatus.NOT_FOUND
    assert response.status_code == HTTPStatus.OK and response["Cache-Control"] == "no-store"
    token = response.context["token"]
    stored = InitialAccessToken.objects.get()
    assert stored.from_console and not stored.live
    body = register(token).json()
    client = Client.objects.get(client_id=body["client_id"])
    assert not client.live
    assert ClientMember.objects.get(client=client).user == user


def test_a_disabled_client_is_401_and_keeps_its_token(db: None, initial_token: str) -> None:
    body = register(initial_token).json()
    uri, token = body["registration_client_uri"], body["registration_access_token"]
    client = Client.objects.get(client_id=body["client_id"])
    client.is_active = False
    client.save()

    assert configuration("GET", uri, token).status_code == HTTPStatus.UNAUTHORIZED
    client.is_active = True
    client.save()
    assert configuration("GET", uri, token).status_code == HTTPStatus.OK
