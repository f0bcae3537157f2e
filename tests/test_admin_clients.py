"""The admin's client pages as operators meet them: the add form, the rotate button, a save that
writes only what changed, and every change recorded as the operator's."""

from __future__ import annotations

import re
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from django.db import connection
from django.test import Client as HttpClient

from accounts.models import User
from events.models import SecurityEvent
from oauth.clients import client_secret_rotate
from oauth.hashing import secret_matches
from oauth.models import Client
from tests.conftest import HttpsClient, RegisteredClient
from tests.test_admin import SECRET, action, client_form

CHECKED = re.compile(r'<input type="checkbox" name="grant_types" value="([a-z_]+)"[^>]* checked>')


@pytest.fixture
def operator_account(make_user: Callable[..., User]) -> User:
    return make_user("operator", is_staff=True, is_superuser=True)


@pytest.fixture
def operator(operator_account: User) -> HttpClient:
    browser = HttpsClient()
    browser.force_login(operator_account)
    return browser


def change_form(client: RegisteredClient, **changes: Any) -> dict[str, Any]:
    """The change form as the page fills it in for this client, with `changes` made."""
    model = client.model
    shown = {
        "name": model.name,
        "client_type": model.client_type,
        "redirect_uris": "\n".join(model.redirect_uris),
        "allowed_scopes": model.allowed_scopes.split(),
        "grant_types": model.grant_types,
        "homepage_uri": model.homepage_uri,
    }
    return client_form(**{**shown, **changes})


def test_the_add_form_starts_with_the_required_grant_types_ticked(operator: HttpClient) -> None:
    page = operator.get("/admin/oauth/client/add/").content.decode()

    assert set(CHECKED.findall(page)) == {"authorization_code", "refresh_token"}


def test_the_add_form_shows_no_client_id_or_secret_before_there_is_one(
    operator: HttpClient,
) -> None:
    """A client_id shown before saving would be a random one the client never gets."""
    first = operator.get("/admin/oauth/client/add/").content.decode()

    assert "client_id" not in first and "sha256" not in first
    assert "Client id" not in first and "Secret" not in first


def test_saving_an_unchanged_client_keeps_a_secret_rotated_meanwhile(
    operator: HttpClient, confidential_client: RegisteredClient
) -> None:
    """Another operator rotates the secret after this page's save has read the client: the
    save changes nothing, so it must write nothing, and the rotated secret must live."""
    client = confidential_client.model
    rotated: list[str] = []

    def rotate_meanwhile(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        result = execute(sql, params, many, context)
        if not rotated and sql.startswith("SELECT") and '"oauth_client"' in sql:
            rotated.append("")  # once: the rotation's own statements pass through here too
            rotated[0] = client_secret_rotate(Client.objects.get(pk=client.pk))
        return result

    with connection.execute_wrapper(rotate_meanwhile):
        response = operator.post(
            f"/admin/oauth/client/{client.pk}/change/", change_form(confidential_client)
        )

    assert response.status_code == HTTPStatus.FOUND
    assert rotated and secret_matches(rotated[0], Client.objects.get(pk=client.pk).secret_hash)
    assert not SecurityEvent.objects.filter(kind="client_changed").exists()


def test_a_change_is_recorded_with_what_changed_and_who_changed_it(
    operator: HttpClient, operator_account: User, confidential_client: RegisteredClient
) -> None:
    client = confidential_client.model

    changes = {"homepage_uri": "https://printer.example/new", "is_active": None}

    operator.post(
        f"/admin/oauth/client/{client.pk}/change/", change_form(confidential_client, **changes)
    )

    changed = SecurityEvent.objects.get(kind="client_changed")
    disabled = SecurityEvent.objects.get(kind="client_disabled")
    assert changed.detail == {"fields": ["homepage_uri"]}
    assert changed.actor == disabled.actor == operator_account
    assert changed.client_id == disabled.client_id == client.pk
    assert secret_matches(confidential_client.secret or "", Client.objects.get().secret_hash)


def test_the_client_page_rotates_the_secret_with_a_button(
    operator: HttpClient, operator_account: User, confidential_client: RegisteredClient
) -> None:
    client = confidential_client.model
    page = operator.get(f"/admin/oauth/client/{client.pk}/change/").content.decode()
    assert 'name="_rotate_secret"' in page

    response = operator.post(
        f"/admin/oauth/client/{client.pk}/change/",
        change_form(confidential_client, _rotate_secret="Save and rotate the secret"),
    )

    assert response.status_code == HTTPStatus.OK and "no-store" in response["Cache-Control"]
    secret = SECRET.search(response.content.decode()).group(1)  # type: ignore[union-attr]
    stored = Client.objects.get().secret_hash
    assert secret_matches(secret, stored)
    assert not secret_matches(confidential_client.secret or "", stored)
    assert SecurityEvent.objects.get(kind="client_secret_rotated").actor == operator_account


def test_public_clients_have_no_rotate_button(
    operator: HttpClient, public_client: RegisteredClient
) -> None:
    page = operator.get(f"/admin/oauth/client/{public_client.model.pk}/change/").content.decode()

    assert 'name="_rotate_secret"' not in page


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("disable", "client_disabled"),
        ("rotate_secret", "client_secret_rotated"),
        ("revoke_grants", "grants_revoked"),
    ],
)
def test_actions_on_clients_are_recorded_as_the_operators(
    operator: HttpClient,
    operator_account: User,
    confidential_client: RegisteredClient,
    name: str,
    kind: str,
) -> None:
    action(operator, "client", name, [confidential_client.model.pk])

    event = SecurityEvent.objects.get(kind=kind)
    assert event.actor == operator_account
    assert event.client_id == confidential_client.model.pk


def test_registering_a_client_is_recorded_as_the_operators(
    operator: HttpClient, operator_account: User
) -> None:
    operator.post("/admin/oauth/client/add/", client_form())

    assert SecurityEvent.objects.get(kind="client_created").actor == operator_account


def test_the_security_events_pages_moved_with_them(operator: HttpClient) -> None:
    old = operator.get("/admin/oauth/securityevent/?kind__exact=sign_in")

    assert old.status_code == HTTPStatus.MOVED_PERMANENTLY
    assert old["Location"] == "/admin/events/securityevent/?kind__exact=sign_in"


@pytest.mark.parametrize("way", ["page", "action"])
def test_deleting_a_client_ends_its_tokens_and_is_recorded_as_the_operators(
    operator: HttpClient,
    operator_account: User,
    exchange: Callable[..., dict[str, Any]],
    token_request: Callable[..., Any],
    confidential_client: RegisteredClient,
    way: str,
) -> None:
    tokens = exchange(confidential_client)
    client = confidential_client.model

    if way == "page":
        operator.post(f"/admin/oauth/client/{client.pk}/delete/", {"post": "yes"})
    else:
        operator.post(
            "/admin/oauth/client/",
            {"action": "delete_selected", "_selected_action": [str(client.pk)], "post": "yes"},
        )

    assert not Client.objects.exists()
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    auth = (confidential_client.client_id, confidential_client.secret or "")
    assert token_request(refresh, auth=auth).status_code == HTTPStatus.UNAUTHORIZED
    deleted = SecurityEvent.objects.get(kind="client_deleted")
    assert deleted.actor == operator_account
    assert deleted.detail == {"client": client.client_id, "name": "Photo printer"}


def test_an_operator_marks_a_public_first_party_client_native(
    operator: HttpClient, make_client: Callable[..., RegisteredClient]
) -> None:
    app = make_client(name="Our phone app", public=True, first_party=True)

    response = operator.post(
        f"/admin/oauth/client/{app.model.pk}/change/",
        change_form(app, first_party="on", native="on"),
    )

    assert response.status_code == HTTPStatus.FOUND
    assert Client.objects.get(pk=app.model.pk).native
    assert SecurityEvent.objects.get(kind="client_changed").detail == {"fields": ["native"]}


def test_a_third_party_client_cannot_be_marked_native(
    operator: HttpClient, make_client: Callable[..., RegisteredClient]
) -> None:
    app = make_client(name="Someone's phone app", public=True)

    response = operator.post(
        f"/admin/oauth/client/{app.model.pk}/change/", change_form(app, native="on")
    )

    assert response.status_code == HTTPStatus.OK  # the form again, with the error
    assert "Only a public first-party client can be a native app of ours." in response.text
    assert not Client.objects.get(pk=app.model.pk).native


def test_the_database_refuses_a_confidential_native_client(
    make_client: Callable[..., RegisteredClient],
) -> None:
    from django.db import IntegrityError, transaction

    app = make_client(name="Printer")
    with pytest.raises(IntegrityError), transaction.atomic():
        Client.objects.filter(pk=app.model.pk).update(native=True)
