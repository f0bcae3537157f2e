"""The operators' admin: registering clients, secrets shown once, disabling, revoking, keys, and
who may do what."""

from __future__ import annotations

import re
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client as HttpClient

from accounts.models import User
from events.models import SecurityEvent
from oauth.hashing import secret_matches
from oauth.models import Client, Grant, SigningKey
from tests.conftest import PASSWORD, HttpsClient, RegisteredClient, basic_auth

SECRET = re.compile(r'<code class="client-secret">([^<]+)</code>')


@pytest.fixture
def operator(make_user: Callable[..., User]) -> HttpClient:
    browser = HttpsClient()
    browser.force_login(make_user("operator", is_staff=True, is_superuser=True))
    return browser


def client_form(**changes: Any) -> dict[str, Any]:
    form = {
        "name": "Photo printer",
        "client_type": "confidential",
        "redirect_uris": "https://printer.example/callback\nhttp://127.0.0.1/cb",
        "allowed_scopes": ["openid", "profile"],
        "grant_types": ["authorization_code", "refresh_token"],
        "is_active": "on",
        "access_token_lifetime": "",
        "refresh_token_lifetime": "",
        "logo_uri": "",
        "homepage_uri": "https://printer.example/",
        "_save": "Save",
    }
    form.update(changes)
    return {key: value for key, value in form.items() if value is not None}


def test_creating_a_client_shows_its_secret_once(operator: HttpClient) -> None:
    response = operator.post("/admin/oauth/client/add/", client_form())

    assert response.status_code == HTTPStatus.OK
    assert "no-store" in response["Cache-Control"]
    secret = SECRET.search(response.content.decode()).group(1)  # type: ignore[union-attr]
    client = Client.objects.get()
    assert client.redirect_uris == ["https://printer.example/callback", "http://127.0.0.1/cb"]
    assert client.allowed_scopes == "openid profile"
    assert client.homepage_uri == "https://printer.example/"
    assert secret_matches(secret, client.secret_hash)
    change_page = operator.get(f"/admin/oauth/client/{client.pk}/change/").content.decode()
    assert secret not in change_page
    assert f"sha256 {client.secret_hash[:8]}" in change_page
    assert SecurityEvent.objects.filter(kind="client_created", client=client).exists()


def test_public_clients_get_no_secret(operator: HttpClient) -> None:
    response = operator.post("/admin/oauth/client/add/", client_form(client_type="public"))

    assert response.status_code == HTTPStatus.FOUND
    assert Client.objects.get().secret_hash == ""


@pytest.mark.parametrize(
    ("changes", "field_error"),
    [
        ({"redirect_uris": "http://printer.example/cb"}, "use https"),
        ({"redirect_uris": "https://printer.example/cb#done"}, "fragment"),
        ({"redirect_uris": "https://*.printer.example/cb"}, "wildcards"),
        ({"redirect_uris": "printer.example/cb"}, "not an absolute URI"),
        ({"redirect_uris": "https://accounts.example.com@evil.example/cb"}, "a user name"),
        ({"name": "Photo printer\u200b"}, "invisible or control characters"),
        ({"name": "\u202eretnirp otohP"}, "invisible or control characters"),
        ({"redirect_uris": "  "}, "Register at least one redirect URI"),
        ({"allowed_scopes": []}, "This field is required"),
        ({"allowed_scopes": ["admin"]}, "Select a valid choice"),
        ({"grant_types": ["refresh_token"]}, "cannot be left out"),
        ({"access_token_lifetime": "-5"}, "greater than or equal to 0"),
        ({"logo_uri": "javascript:alert(1)"}, "Enter a valid URL"),
        ({"name": ""}, "This field is required"),
    ],
)
def test_bad_registrations_get_form_errors_and_save_nothing(
    operator: HttpClient, changes: dict[str, Any], field_error: str
) -> None:
    response = operator.post("/admin/oauth/client/add/", client_form(**changes))

    assert response.status_code == HTTPStatus.OK
    assert field_error in response.content.decode()
    assert not Client.objects.exists()


def test_duplicate_names_are_refused(
    operator: HttpClient, make_client: Callable[..., RegisteredClient]
) -> None:
    make_client(name="Photo printer")

    response = operator.post("/admin/oauth/client/add/", client_form())

    assert "Client with this Name already exists" in response.content.decode()
    assert Client.objects.count() == 1


def test_client_list_searches_and_filters(
    operator: HttpClient, make_client: Callable[..., RegisteredClient]
) -> None:
    printer = make_client(name="Photo printer")
    make_client(name="Calendar", public=True)

    by_name = operator.get("/admin/oauth/client/?q=photo").content.decode()
    by_id = operator.get(f"/admin/oauth/client/?q={printer.client_id}").content.decode()
    public = operator.get("/admin/oauth/client/?client_type__exact=public").content.decode()

    assert "Photo printer" in by_name and "Calendar" not in by_name
    assert "Photo printer" in by_id
    assert "Calendar" in public and "Photo printer" not in public
    assert "last used" in by_name.lower()


def action(operator: HttpClient, model: str, name: str, pks: list[Any]) -> Any:
    return operator.post(
        f"/admin/oauth/{model}/",
        {"action": name, "_selected_action": [str(pk) for pk in pks], "index": 0},
    )


def test_rotating_a_secret_shows_the_new_one_once_and_the_old_one_stops_working(
    operator: HttpClient,
    exchange: Callable[..., dict[str, Any]],
    token_request: Callable[..., Any],
    confidential_client: RegisteredClient,
) -> None:
    tokens = exchange(confidential_client)

    response = action(operator, "client", "rotate_secret", [confidential_client.model.pk])
    new_secret = SECRET.search(response.content.decode()).group(1)  # type: ignore[union-attr]
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    old = token_request(refresh, auth=(confidential_client.client_id, confidential_client.secret))
    new = token_request(refresh, auth=(confidential_client.client_id, new_secret))

    assert old.status_code == HTTPStatus.UNAUTHORIZED
    assert new.status_code == HTTPStatus.OK
    assert SecurityEvent.objects.filter(kind="client_secret_rotated").count() == 1


def test_disabled_client_cannot_refresh_and_can_be_enabled_again(
    operator: HttpClient,
    exchange: Callable[..., dict[str, Any]],
    token_request: Callable[..., Any],
    confidential_client: RegisteredClient,
) -> None:
    tokens = exchange(confidential_client)
    auth = (confidential_client.client_id, confidential_client.secret)

    action(operator, "client", "disable", [confidential_client.model.pk])
    refused = token_request(
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, auth=auth
    )
    action(operator, "client", "enable", [confidential_client.model.pk])
    allowed = token_request(
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, auth=auth
    )

    assert refused.json()["error"] == "invalid_client"
    assert allowed.status_code == HTTPStatus.OK
    kinds = list(SecurityEvent.objects.values_list("kind", flat=True))
    assert "client_disabled" in kinds and "client_enabled" in kinds


def test_a_client_read_while_another_thread_forgets_the_clients_is_not_kept(
    confidential_client: RegisteredClient,
) -> None:
    """Thread A reads the client; meanwhile a change is made and thread B, seeing the stamp
    move, forgets the clients. A's row is from before the change: kept, it would be served
    until the next change, since the stamp that made B forget will not move again."""
    from oauth import clients

    def forget_meanwhile(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        result = execute(sql, params, many, context)
        clients.clients_forget()  # thread B, while A still holds the row it read
        return result

    clients.clients_forget()
    with connection.execute_wrapper(forget_meanwhile):
        assert clients.active_client(confidential_client.client_id) is not None
        assert clients.browser_origins() is not None

    assert confidential_client.client_id not in clients._held
    assert clients._origins is None


def test_revoking_all_grants_of_a_client(
    operator: HttpClient,
    exchange: Callable[..., dict[str, Any]],
    obtain_code: Callable[..., str],
    exchange_code: Callable[..., Any],
    browser: HttpClient,
    confidential_client: RegisteredClient,
) -> None:
    tokens = exchange(confidential_client)
    unexchanged = obtain_code(confidential_client)

    action(operator, "client", "revoke_grants", [confidential_client.model.pk])

    assert Grant.objects.get().revoked_at is not None
    late = exchange_code(confidential_client, unexchanged)
    assert late.json()["error"] == "invalid_grant"
    assert SecurityEvent.objects.get(kind="grants_revoked").detail == {"grants": 1}
    auth = basic_auth(confidential_client.client_id, confidential_client.secret or "")
    introspected = browser.post(
        "/oauth/introspect",
        urlencode({"token": tokens["access_token"]}),
        "application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=auth,
    )
    assert introspected.json() == {"active": False}


def test_grants_are_listed_read_only_with_hash_prefixes_and_can_be_revoked(
    operator: HttpClient,
    exchange: Callable[..., dict[str, Any]],
    confidential_client: RegisteredClient,
) -> None:
    tokens = exchange(confidential_client)
    grant = Grant.objects.get()

    listing = operator.get("/admin/oauth/grant/").content.decode()
    detail = operator.get(f"/admin/oauth/grant/{grant.pk}/change/").content.decode()
    action(operator, "grant", "revoke", [grant.pk])

    assert "alice" in listing and "Photo printer" in listing
    assert tokens["refresh_token"] not in detail and tokens["access_token"] not in detail
    assert "sha256 " in detail
    assert operator.get("/admin/oauth/grant/add/").status_code == HTTPStatus.FORBIDDEN
    grant.refresh_from_db()
    assert grant.revoked_at is not None


def test_signing_keys_show_no_private_part_and_rotate(
    operator: HttpClient,
    exchange: Callable[..., dict[str, Any]],
    confidential_client: RegisteredClient,
) -> None:
    exchange(confidential_client)
    key = SigningKey.objects.get(state=SigningKey.State.ACTIVE)

    detail = operator.get(f"/admin/oauth/signingkey/{key.pk}/change/").content.decode()
    action(operator, "signingkey", "rotate", [key.pk])

    assert key.private_key_encrypted[:20] not in detail
    assert "PRIVATE" not in detail
    key.refresh_from_db()
    assert key.state == SigningKey.State.RETIRED
    assert SecurityEvent.objects.filter(kind="key_rotated").exists()


def test_consents_can_be_withdrawn(
    operator: HttpClient,
    exchange: Callable[..., dict[str, Any]],
    confidential_client: RegisteredClient,
) -> None:
    from oauth.models import Consent

    exchange(confidential_client)

    action(operator, "consent", "withdraw", [Consent.objects.get().pk])

    assert not Consent.objects.exists()
    assert Grant.objects.get().revoked_at is not None


def test_security_events_are_read_only_and_filterable(
    operator: HttpClient,
    exchange: Callable[..., dict[str, Any]],
    confidential_client: RegisteredClient,
) -> None:
    exchange(confidential_client)
    event = SecurityEvent.objects.filter(kind="tokens_issued").get()

    listing = operator.get("/admin/events/securityevent/?kind__exact=tokens_issued")
    listing = listing.content.decode()
    detail = operator.get(f"/admin/events/securityevent/{event.pk}/change/")

    assert "Tokens issued" in listing
    assert detail.status_code == HTTPStatus.OK
    assert 'name="_save"' not in detail.content.decode()
    assert operator.get("/admin/events/securityevent/add/").status_code == HTTPStatus.FORBIDDEN


def test_only_staff_reach_the_admin(signed_in: HttpClient) -> None:
    response = signed_in.get("/admin/oauth/client/")
    told = signed_in.get(response["Location"])

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/admin/login/")
    # Signed in already: not sent to sign in again, which would only come back here.
    assert told.status_code == HTTPStatus.FORBIDDEN


def test_staff_without_change_permission_cannot_create_or_rotate(
    make_user: Callable[..., User], confidential_client: RegisteredClient
) -> None:
    viewer = make_user("viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_client"))
    browser = HttpsClient()
    browser.force_login(viewer)
    old_hash = confidential_client.model.secret_hash

    add = browser.post("/admin/oauth/client/add/", client_form(name="Sneaky"))
    rotate = action(browser, "client", "rotate_secret", [confidential_client.model.pk])
    listing = browser.get("/admin/oauth/client/").content.decode()

    assert add.status_code == HTTPStatus.FORBIDDEN
    assert rotate.status_code in {HTTPStatus.OK, HTTPStatus.FOUND}
    assert "rotate_secret" not in listing
    confidential_client.model.refresh_from_db()
    assert confidential_client.model.secret_hash == old_hash
    assert not Client.objects.filter(name="Sneaky").exists()


def test_disabling_through_the_form_is_recorded_too(
    operator: HttpClient, confidential_client: RegisteredClient
) -> None:
    client = confidential_client.model
    form = client_form(name=client.name, redirect_uris=client.redirect_uris[0], is_active=None)

    operator.post(f"/admin/oauth/client/{client.pk}/change/", form)

    client.refresh_from_db()
    assert not client.is_active
    assert SecurityEvent.objects.filter(kind="client_disabled", client=client).exists()


def test_adding_clients_takes_the_change_permission(make_user: Callable[..., User]) -> None:
    clerk = make_user("clerk", is_staff=True)
    clerk.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_client", "view_client"])
    )
    browser = HttpsClient()
    browser.force_login(clerk)

    assert browser.get("/admin/oauth/client/add/").status_code == HTTPStatus.FORBIDDEN


def test_the_admin_signs_in_only_through_the_form_with_the_limits(
    make_user: Callable[..., User],
) -> None:
    """Django's own admin sign-in would let staff passwords be guessed past the failed-attempt
    limits and waits (test_sign_in_throttling.py): it only sends people to the real form."""
    make_user("root", is_staff=True, is_superuser=True)
    browser = HttpsClient()

    answer = browser.post("/admin/login/?next=/admin/", {"username": "root", "password": PASSWORD})
    visit = browser.get("/admin/", follow=True)

    assert answer.status_code == HTTPStatus.FOUND
    assert answer["Location"] == "/accounts/login/?next=/admin/"
    assert "_auth_user_id" not in browser.session
    assert visit.redirect_chain[-1][0] == "/accounts/login/?next=%2Fadmin%2F"
    assert visit.templates[0].name == "accounts/login.html"


@pytest.mark.parametrize(
    "path",
    [
        "/admin/events/securityevent/?kind=%00",
        "/admin/oauth/client/?client_type__exact=%00",
        "/admin/accounts/socialidentity/?provider__exact=%00",
        "/admin/oauth/grant/?client__id__exact=1&%00=x",
    ],
)
def test_a_filter_with_a_nul_is_refused_as_a_bad_lookup(operator: HttpClient, path: str) -> None:
    """PostgreSQL text cannot hold NUL: such a filter was a DataError (a 500)."""
    response = operator.get(path)

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].endswith("?e=1")


@pytest.mark.parametrize(("model", "field"), [("grant", "client"), ("grant", "user")])
def test_a_search_for_a_nul_finds_nothing(operator: HttpClient, model: str, field: str) -> None:
    response = operator.get(
        "/admin/autocomplete/",
        {"term": "a\x00", "app_label": "oauth", "model_name": model, "field_name": field},
    )

    assert response.status_code == HTTPStatus.OK
    assert response.json()["results"] == []
