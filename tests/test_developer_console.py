"""The developer console at /developers/: people register their own apps (never first-party,
in development, a limited number, rate-limited), see the secret once, change them, delete them
(their grants, codes and consents end with them), and manage a team with roles and testers."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from django.conf import settings
from django.test import Client as HttpClient
from django.test import override_settings

from accounts.models import User
from oauth.hashing import secret_matches
from oauth.models import Client, ClientMember, Consent, Grant
from tests.conftest import HttpsClient

WEB_APP = {
    "name": "Recipe box",
    "kind": "web",
    "redirect_uris": "https://recipes.example/callback",
    "allowed_scopes": ["openid", "profile"],
    "homepage_uri": "https://recipes.example/",
    "privacy_policy_uri": "https://recipes.example/privacy",
    "terms_uri": "",
}


def create(browser: HttpClient, **fields: Any) -> Any:
    return browser.post("/developers/new", {**WEB_APP, **fields})


def app_of(name: str = "Recipe box") -> Client:
    return Client.objects.get(name=name)


@pytest.fixture
def other(make_user: Callable[..., User]) -> User:
    return make_user("bob")


def signed_in_as(person: User) -> HttpClient:
    browser = HttpsClient()
    browser.force_login(person)
    return browser


def test_the_console_is_for_signed_in_people(browser: HttpClient) -> None:
    response = browser.get("/developers/")

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/accounts/login/")


def test_a_web_app_is_registered_in_development_and_its_secret_shown_once(
    signed_in: HttpClient, user: User
) -> None:
    response = create(signed_in, first_party="on", introspect_any_token="on", live="on")

    assert response.status_code == HTTPStatus.OK
    assert response["Cache-Control"] == "no-store"
    secret = response.context["secret"]
    client = app_of()
    assert secret_matches(secret, client.secret_hash)
    assert (client.kind, client.client_type) == ("web", "confidential")
    assert not client.first_party and not client.introspect_any_token and not client.live
    assert client.allowed_scopes == "openid profile"
    assert client.privacy_policy_uri == "https://recipes.example/privacy"
    assert ClientMember.objects.get(client=client).user == user
    page = signed_in.get(f"/developers/apps/{client.client_id}/").content.decode()
    assert secret not in page


@pytest.mark.parametrize(
    ("kind", "uri"),
    [("spa", "https://spa.example/cb"), ("native", "com.example.recipes:/callback")],
)
def test_browser_and_native_apps_are_public(signed_in: HttpClient, kind: str, uri: str) -> None:
    response = create(signed_in, kind=kind, redirect_uris=uri)

    assert response.context["secret"] is None
    client = app_of()
    assert client.client_type == "public" and client.secret_hash == ""


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"redirect_uris": "javascript:alert(1)"}, "redirect_uris"),
        ({"redirect_uris": "https://a.example/cb#frag"}, "redirect_uris"),
        ({"redirect_uris": "com.example.app:/cb"}, None),  # only native apps
        ({"redirect_uris": ""}, "redirect_uris"),
        ({"kind": "desktop"}, "kind"),
        ({"allowed_scopes": ["openid", "admin"]}, "allowed_scopes"),
        ({"privacy_policy_uri": "data:text/html,hi"}, "privacy_policy_uri"),
        ({"name": "Recipe\u200bbox"}, "name"),
        ({"name": "Recipe\x00box"}, "name"),
        ({"redirect_uris": "https://a.example/\x00"}, "redirect_uris"),
    ],
)
def test_bad_settings_are_form_errors_and_create_nothing(
    signed_in: HttpClient, fields: dict[str, Any], field: str | None
) -> None:
    response = create(signed_in, **fields)

    assert response.status_code == HTTPStatus.OK
    errors = response.context["form"].errors
    assert field in errors if field else errors
    assert not Client.objects.exists()


def test_only_the_team_sees_an_app(
    signed_in: HttpClient, user: User, other: User, make_user: Callable[..., User]
) -> None:
    create(signed_in)
    client = app_of()
    ClientMember.objects.create(client=client, user=make_user("tess"), role="tester")
    url = f"/developers/apps/{client.client_id}/"

    assert "Recipe box" in signed_in.get("/developers/").content.decode()
    for person in (other, User.objects.get(username="tess")):
        browser = signed_in_as(person)
        assert "Recipe box" not in browser.get("/developers/").content.decode()
        assert browser.get(url).status_code == HTTPStatus.NOT_FOUND
        assert browser.post(url, WEB_APP).status_code == HTTPStatus.NOT_FOUND


def test_the_team_changes_the_app_and_viewers_only_look(signed_in: HttpClient, other: User) -> None:
    create(signed_in)
    client = app_of()
    url = f"/developers/apps/{client.client_id}/"
    changed = {**WEB_APP, "redirect_uris": "https://recipes.example/cb2", "first_party": "on"}

    assert signed_in.post(url, changed).status_code == HTTPStatus.FOUND
    client.refresh_from_db()
    assert client.redirect_uris == ["https://recipes.example/cb2"] and not client.first_party

    ClientMember.objects.create(client=client, user=other, role="viewer")
    viewer = signed_in_as(other)
    assert viewer.get(url).status_code == HTTPStatus.OK
    assert viewer.post(url, WEB_APP).status_code == HTTPStatus.NOT_FOUND


def test_the_owner_adds_people_by_username_or_email_with_roles(
    signed_in: HttpClient, other: User, make_user: Callable[..., User]
) -> None:
    create(signed_in)
    client = app_of()
    make_user("carol")
    base = f"/developers/apps/{client.client_id}/members"

    signed_in.post(base, {"identifier": "BOB@example.com", "role": "developer"})
    signed_in.post(base, {"identifier": "carol", "role": "tester"})
    signed_in.post(base, {"identifier": "nobody", "role": "tester"})

    roles = dict(ClientMember.objects.filter(client=client).values_list("user__username", "role"))
    assert roles == {"alice": "owner", "bob": "developer", "carol": "tester"}


def test_developers_manage_testers_only(
    signed_in: HttpClient, other: User, make_user: Callable[..., User]
) -> None:
    create(signed_in)
    client = app_of()
    ClientMember.objects.create(client=client, user=other, role="developer")
    make_user("carol")
    make_user("dave")
    developer = signed_in_as(other)
    base = f"/developers/apps/{client.client_id}/members"

    developer.post(base, {"identifier": "carol", "role": "tester"})
    developer.post(base, {"identifier": "dave", "role": "owner"})
    owner = ClientMember.objects.get(client=client, role="owner")
    developer.post(f"{base}/{owner.pk}", {"remove": "1"})

    roles = dict(ClientMember.objects.filter(client=client).values_list("user__username", "role"))
    assert roles == {"alice": "owner", "bob": "developer", "carol": "tester"}


@override_settings(DEVELOPER_MAX_TESTERS=2)
def test_an_app_has_a_limited_number_of_testers(
    signed_in: HttpClient, make_user: Callable[..., User]
) -> None:
    create(signed_in)
    client = app_of()
    for name in ("t1", "t2", "t3"):
        make_user(name)
        signed_in.post(
            f"/developers/apps/{client.client_id}/members", {"identifier": name, "role": "tester"}
        )

    assert ClientMember.objects.filter(client=client, role="tester").count() == 2


def test_an_app_always_keeps_an_owner(signed_in: HttpClient, other: User) -> None:
    create(signed_in)
    client = app_of()
    me = ClientMember.objects.get(client=client)
    url = f"/developers/apps/{client.client_id}/members/{me.pk}"

    signed_in.post(url, {"role": "viewer"})
    signed_in.post(url, {"remove": "1"})
    assert ClientMember.objects.get(pk=me.pk).role == "owner"

    ClientMember.objects.create(client=client, user=other, role="owner")
    signed_in.post(url, {"role": "viewer"})
    assert ClientMember.objects.get(pk=me.pk).role == "viewer"


def test_deleting_an_app_ends_its_grants_and_consents(
    signed_in: HttpClient, user: User, other: User
) -> None:
    create(signed_in)
    client = app_of()
    Consent.objects.create(user=other, client=client, scope="openid")
    url = f"/developers/apps/{client.client_id}/delete"

    signed_in.post(url, {"confirm": "not the name"})
    assert Client.objects.filter(pk=client.pk).exists()
    ClientMember.objects.create(client=client, user=other, role="developer")
    assert signed_in_as(other).post(url, {"confirm": "Recipe box"}).status_code == 404

    response = signed_in.post(url, {"confirm": "Recipe box"})

    assert response.status_code == HTTPStatus.FOUND
    assert not Client.objects.filter(pk=client.pk).exists()
    assert not Consent.objects.exists() and not Grant.objects.exists()


@override_settings(DEVELOPER_MAX_APPS=2)
def test_a_person_owns_a_limited_number_of_apps(signed_in: HttpClient) -> None:
    for number in range(3):
        response = create(signed_in, name=f"App {number}")

    assert Client.objects.count() == 2
    assert "the most one person may own" in str(response.context["form"].non_field_errors())


def test_creating_apps_is_rate_limited(signed_in: HttpClient) -> None:
    limits = {**settings.RATE_LIMITS, "app_create_person": (1, 3600)}
    with override_settings(RATE_LIMITS=limits):
        create(signed_in, name="First")
        response = create(signed_in, name="Second")

    assert list(Client.objects.values_list("name", flat=True)) == ["First"]
    assert "try again later" in str(response.context["form"].non_field_errors())


@pytest.mark.parametrize("path", ["/developers/", "/developers/new"])
def test_the_console_speaks_korean(signed_in: HttpClient, path: str) -> None:
    page = signed_in.get(path, HTTP_ACCEPT_LANGUAGE="ko").content.decode()

    assert 'lang="ko"' in page and "앱" in page
