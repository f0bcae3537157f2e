"""Accounts in the admin: rights to the admin itself (staff, superuser, groups, permissions) are
given by superusers only, whatever else a staff member may change."""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser
from http import HTTPStatus
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client as HttpClient

from accounts.models import User
from tests.conftest import HttpsClient


class FormFields(HTMLParser):
    """The values a browser would submit from a page's forms (the admin's change form)."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, list[str]] = {}
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        name = found.get("name")
        if tag == "input" and name and found.get("type") not in {"submit", "button", "file"}:
            ticked = found.get("type") in {"checkbox", "radio"}
            if ticked and "checked" not in found:
                return
            self.values.setdefault(name, []).append(found.get("value", "on" if ticked else ""))
        elif tag == "select" and name:
            self.select = name
            self.values.setdefault(name, [])
        elif tag == "option" and self.select and "selected" in found:
            self.values[self.select].append(found.get("value", ""))
        elif tag == "textarea" and name:
            self.textarea = name
            self.values[name] = [""]

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.values[self.textarea][0] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def submitted(page: bytes, **changes: Any) -> dict[str, Any]:
    reader = FormFields()
    reader.feed(page.decode())
    form: dict[str, Any] = {name: values for name, values in reader.values.items()}
    for name, value in changes.items():
        if value is None:
            form.pop(name, None)
        else:
            form[name] = value
    return form


@pytest.fixture
def account_keeper(make_user: Callable[..., User]) -> User:
    """Staff who may see and change accounts, and nothing more."""
    keeper = make_user("keeper", is_staff=True)
    keeper.user_permissions.set(
        Permission.objects.filter(codename__in=["view_user", "change_user"])
    )
    return keeper


@pytest.fixture
def keeper_browser(account_keeper: User) -> HttpClient:
    browser = HttpsClient()
    browser.force_login(account_keeper)
    return browser


def change(browser: HttpClient, person: User, **changes: Any) -> Any:
    url = f"/admin/accounts/user/{person.pk}/change/"
    page = browser.get(url)
    assert page.status_code == HTTPStatus.OK
    return browser.post(url, submitted(page.content, _save="Save", **changes))


def test_staff_who_may_change_accounts_cannot_make_itself_superuser(
    keeper_browser: HttpClient, account_keeper: User
) -> None:
    response = change(keeper_browser, account_keeper, is_superuser="on", first_name="Kept")

    assert response.status_code == HTTPStatus.FOUND  # the rest of the form was saved
    account_keeper.refresh_from_db()
    assert account_keeper.first_name == "Kept"
    assert not account_keeper.is_superuser


def test_staff_who_may_change_accounts_cannot_make_someone_staff(
    keeper_browser: HttpClient, make_user: Callable[..., User]
) -> None:
    friend = make_user("friend")
    admin_permission = Permission.objects.get(codename="change_client")

    change(keeper_browser, friend, is_staff="on", user_permissions=[str(admin_permission.pk)])

    friend.refresh_from_db()
    assert not friend.is_staff and not friend.user_permissions.exists()
    friends_browser = HttpsClient()
    friends_browser.force_login(friend)
    assert friends_browser.get("/admin/", follow=True).status_code == HTTPStatus.FORBIDDEN


def test_staff_who_may_change_accounts_cannot_take_over_a_superuser(
    keeper_browser: HttpClient, make_user: Callable[..., User]
) -> None:
    chief = make_user("chief", is_staff=True, is_superuser=True)

    page = keeper_browser.get(f"/admin/accounts/user/{chief.pk}/change/")
    password = keeper_browser.post(
        f"/admin/accounts/user/{chief.pk}/password/",
        {"password1": "a new long passphrase", "password2": "a new long passphrase"},
    )

    assert page.status_code == HTTPStatus.OK  # to look at: view_user
    assert b'name="is_superuser"' not in page.content  # not a field to change
    assert password.status_code == HTTPStatus.FORBIDDEN
    chief.refresh_from_db()
    assert not chief.check_password("a new long passphrase")


def test_superusers_give_the_rights(make_user: Callable[..., User]) -> None:
    chief = make_user("chief", is_staff=True, is_superuser=True)
    friend = make_user("friend")
    browser = HttpsClient()
    browser.force_login(chief)

    change(browser, friend, is_staff="on")

    friend.refresh_from_db()
    assert friend.is_staff
