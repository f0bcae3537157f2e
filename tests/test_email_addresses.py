"""When two email addresses are the same: one canonical form (accounts/emails.py) for joining a
provider's vouched email to an account, for creating accounts, for password sign-in and its
lockout, and for the admin. Look-alikes of ASCII letters that the database's lower() or Unicode
folding would take for them (U+212A, U+0130, U+017F, full-width letters, a combining accent)
are other addresses; ASCII case is not, nor an IDNA domain's two spellings."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from http import HTTPStatus
from typing import Any

import pytest
import time_machine
from django.db import IntegrityError
from django.test import Client as HttpClient

from accounts.emails import email_canonical
from accounts.models import SocialIdentity, User
from tests.conftest import PASSWORD, HttpsClient
from tests.test_upstream_login import PROVIDERS, sign_in_with, signed_in_user, use_email

# An address, and another that only Unicode folding or normalisation would take for it.
LOOK_ALIKES = [
    pytest.param("nick@site.example", "nic\u212a@site.example", id="kelvin-sign"),
    pytest.param("alice@example.com", "al\u0130ce@example.com", id="capital-i-with-dot"),
    pytest.param("sam@site.example", "\u017fam@site.example", id="long-s"),
    pytest.param("nick@site.example", "\uff4e\uff49\uff43\uff4b@site.example", id="full-width"),
    pytest.param("ren\u00e9@site.example", "rene\u0301@site.example", id="combining-accent"),
]
# An address, and the same address written otherwise.
SPELLINGS = [
    pytest.param("nick@site.example", "NICK@Site.EXAMPLE", id="ascii-case"),
    pytest.param("jane@b\u00fccher.example", "Jane@XN--BCHER-KVA.example", id="idna-domain"),
]


# The canonical form


@pytest.mark.parametrize(
    ("address", "canonical"),
    [
        ("Alice@EXAMPLE.com", "alice@example.com"),
        ("alice@example.com", "alice@example.com"),
        ("jane@B\u00fccher.Example", "jane@xn--bcher-kva.example"),
        ("jane@xn--bcher-kva.example", "jane@xn--bcher-kva.example"),
        ("stra\u00dfe@stra\u00dfe.example", "stra\u00dfe@xn--strae-oqa.example"),  # no ß to ss
        ("\u00c9LISE@site.example", "\u00c9lise@site.example"),  # only A-Z is folded
    ],
)
def test_the_canonical_form_folds_ascii_case_and_encodes_the_domain(
    address: str, canonical: str
) -> None:
    assert email_canonical(address) == canonical


@pytest.mark.parametrize(("address", "look_alike"), LOOK_ALIKES)
def test_the_canonical_form_keeps_look_alikes_apart_and_as_written(
    address: str, look_alike: str
) -> None:
    assert email_canonical(look_alike) == look_alike
    assert email_canonical(look_alike) != email_canonical(address)


@pytest.mark.parametrize(
    "address",
    [
        "nick", "nick@", "@site.example", "a@b@site.example", '"a@b"@site.example',
        '"nick"@site.example', "nick @site.example", "nick@site.example.", "nick@site..example",
        "nick@site.e\u212axample", "nick@\uff53ite.example", "nick@site\u3002example",
        "nick@cafe\u0301.example", "nick@exa_mple.com", "nick@[192.0.2.1]", "ni\x00ck@site.example",
        "nick@" + ".".join(["a" * 60] * 4) + ".example",
    ],
)  # fmt: skip
def test_an_address_that_cannot_be_compared_has_no_canonical_form(address: str) -> None:
    assert email_canonical(address) is None


def test_the_database_refuses_a_second_account_for_one_canonical_form(
    make_user: Callable[..., User],
) -> None:
    make_user("nick", email="nick@site.example")
    make_user("kelvin", email="nic\u212a@site.example")  # another address

    with pytest.raises(IntegrityError):
        make_user("shouter", email="NICK@SITE.example")


# Signing in through a provider


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("holder_verified", [True, False], ids=["verified", "unverified"])
@pytest.mark.parametrize(("address", "look_alike"), LOOK_ALIKES)
def test_a_look_alike_from_a_provider_is_another_address(
    browser: HttpClient,
    upstream: Any,
    make_user: Callable[..., User],
    provider: str,
    holder_verified: bool,
    address: str,
    look_alike: str,
) -> None:
    """Vouched for (Google, Kakao) or not (Naver), it neither joins the account that holds the
    address nor takes the address from it, verified or not: it makes an account of its own."""
    holder = make_user("holder", email=address, email_verified=holder_verified)
    use_email(upstream, provider, look_alike, vouched=True)

    sign_in_with(browser, provider)

    user = signed_in_user(browser)
    assert user is not None and user != holder
    assert (user.email, user.email_verified) == (look_alike, provider != "naver")
    holder.refresh_from_db()
    assert (holder.email, holder.email_verified) == (address, holder_verified)
    assert not SocialIdentity.objects.filter(user=holder).exists()


@pytest.mark.parametrize("provider", ["google", "kakao"])
@pytest.mark.parametrize(("address", "spelling"), SPELLINGS)
def test_the_same_address_written_otherwise_joins_its_account(
    browser: HttpClient,
    upstream: Any,
    make_user: Callable[..., User],
    provider: str,
    address: str,
    spelling: str,
) -> None:
    holder = make_user("holder", email=address, email_verified=True)
    use_email(upstream, provider, spelling, vouched=True)

    sign_in_with(browser, provider)

    assert signed_in_user(browser) == holder


@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_email_whose_domain_is_no_valid_idna_is_no_email(
    browser: HttpClient, upstream: Any, make_user: Callable[..., User], provider: str
) -> None:
    """The Kelvin sign in a domain is refused (IDNA 2008), not read as k: it joins nothing, and
    a new account needs an email."""
    holder = make_user("holder", email="nick@kite.example", email_verified=True)
    use_email(upstream, provider, "nick@\u212aite.example", vouched=True)

    response = sign_in_with(browser, provider)

    assert 'data-reason="email_missing"' in response.content.decode()
    assert signed_in_user(browser) is None
    assert User.objects.get() == holder and not SocialIdentity.objects.exists()


# Password sign-in


def attempt(login: str, password: str, address: str = "198.51.100.7") -> Any:
    """One sign-in from a browser of its own."""
    return HttpsClient().post(
        "/accounts/login/", {"username": login, "password": password}, REMOTE_ADDR=address
    )


@pytest.fixture
def limits(settings: Any) -> Iterator[None]:
    """Three failures lock an account, in a window that starts with the test."""
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "sign_in_account": (3, 900),
        "sign_in_address": (20, 900),
    }
    window_start = (int(time.time()) // 900 + 1) * 900
    with time_machine.travel(window_start + 1, tick=True):
        yield


@pytest.mark.parametrize(("address", "look_alike"), LOOK_ALIKES)
def test_a_look_alike_login_does_not_sign_in_to_the_account(
    make_user: Callable[..., User], address: str, look_alike: str
) -> None:
    make_user("holder", email=address)

    response = attempt(look_alike, PASSWORD)

    assert response.status_code == HTTPStatus.OK
    assert "do not match an account" in response.content.decode()


@pytest.mark.parametrize(("address", "look_alike"), LOOK_ALIKES)
def test_a_look_alike_login_does_not_count_against_the_accounts_lockout(
    make_user: Callable[..., User], limits: None, address: str, look_alike: str
) -> None:
    holder = make_user("holder", email=address)
    for _ in range(3):
        attempt(look_alike, "wrong")

    response = attempt(address, PASSWORD)

    assert response.status_code == HTTPStatus.FOUND
    assert response.wsgi_request.user == holder


@pytest.mark.parametrize(("address", "spelling"), SPELLINGS)
def test_an_email_login_written_otherwise_signs_in_and_counts_as_its_account(
    make_user: Callable[..., User], limits: None, address: str, spelling: str
) -> None:
    holder = make_user("holder", email=address)

    signed_in = attempt(spelling, PASSWORD)
    for _ in range(3):
        attempt(spelling, "wrong")

    assert signed_in.status_code == HTTPStatus.FOUND
    assert signed_in.wsgi_request.user == holder
    assert attempt(address, PASSWORD).status_code == HTTPStatus.TOO_MANY_REQUESTS


@pytest.mark.parametrize(("address", "look_alike"), LOOK_ALIKES)
def test_unknown_email_logins_count_together_exactly_when_they_are_one_address(
    db: None, limits: None, address: str, look_alike: str
) -> None:
    """With no account to name, failures count against the login as accounts are matched: by
    canonical form. Counted otherwise, the lockout would tell whether an account exists."""
    for _ in range(3):
        attempt(look_alike, "wrong")
    apart = attempt(address, "wrong")
    local, domain = address.split("@")
    for _ in range(2):
        attempt(f"{local}@{domain.upper()}", "wrong")

    assert apart.status_code == HTTPStatus.OK
    assert attempt(address, "wrong").status_code == HTTPStatus.TOO_MANY_REQUESTS


# The admin


@pytest.fixture
def operator(make_user: Callable[..., User]) -> HttpClient:
    browser = HttpsClient()
    browser.force_login(make_user("operator", is_staff=True, is_superuser=True))
    return browser


def change_email(operator: HttpClient, user: User, email: str) -> Any:
    """The admin's change form for `user`, sent back with another email."""
    return operator.post(
        f"/admin/accounts/user/{user.pk}/change/",
        {
            "username": user.username, "email": email, "is_active": "on",
            "date_joined_0": "2030-01-01", "date_joined_1": "00:00:00",
            "identities-TOTAL_FORMS": "0", "identities-INITIAL_FORMS": "0", "_save": "Save",
        },
    )  # fmt: skip


@pytest.mark.parametrize(
    ("email", "error"),
    [
        ("NICK@Site.Example", "Another account has this email address."),
        ('"nick"@site.example', "Enter an address with one @, a valid domain name and no"),
    ],
)
def test_the_admin_refuses_an_email_it_cannot_keep_with_a_form_error(
    operator: HttpClient, make_user: Callable[..., User], email: str, error: str
) -> None:
    make_user("nick", email="nick@site.example")
    other = make_user("other", email="other@site.example")

    response = change_email(operator, other, email)

    assert response.status_code == HTTPStatus.OK
    assert error in response.content.decode()
    other.refresh_from_db()
    assert other.email == "other@site.example"


def test_the_admin_gives_a_look_alike_address_to_another_account(
    operator: HttpClient, make_user: Callable[..., User]
) -> None:
    make_user("nick", email="nick@site.example")
    other = make_user("other", email="other@site.example")

    response = change_email(operator, other, "nic\u212a@site.example")

    assert response.status_code == HTTPStatus.FOUND, response.content.decode()
    other.refresh_from_db()
    assert (other.email, other.email_canonical) == ("nic\u212a@site.example",) * 2
