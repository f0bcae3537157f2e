"""The authorization request itself: RFC 6749 §3.1 (parameters, empty and repeated), §3.1.2
and RFC 8252 §7.3, §8.3 (redirect_uri, loopback ports), §3.3 (scope), §4.1.1, §4.1.2.1
(an error page, or an error sent back to the client); OpenID Connect Core §3.1.2.1 (POSTed
requests, response_mode, prompt, ui_locales); RFC 9207 (the `iss` response parameter)."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from django.conf import settings
from django.test import Client as HttpClient

from accounts.models import User
from oauth.models import AuthorizationCode
from tests.conftest import HttpsClient, Pkce, RegisteredClient, authorize_url, query


def test_parameters_sent_without_a_value_are_as_if_not_sent(
    signed_in: HttpClient, confidential_client: RegisteredClient
) -> None:
    """RFC 6749 §3.1."""
    plain = signed_in.get(authorize_url(confidential_client, state="st"))
    empty = signed_in.get(
        authorize_url(
            confidential_client, state="st", max_age="", request="", request_uri="",
            response_mode="", id_token_hint="",
        )
    )  # fmt: skip

    assert empty.status_code == plain.status_code
    assert empty.templates[0].name == plain.templates[0].name


@pytest.mark.parametrize(
    ("change", "expected_error"),
    [
        ({"client_id": "no-such-client"}, "invalid_client"),
        ({"client_id": None}, "invalid_client"),
        ({"redirect_uri": "https://evil.example/callback"}, "invalid_request"),
        ({"redirect_uri": "https://app.example.com/callback/"}, "invalid_request"),
        ({"redirect_uri": "https://app.example.com/callback?x=1"}, "invalid_request"),
        ({"redirect_uri": "https://APP.example.com/callback"}, "invalid_request"),
        ({"redirect_uri": 'https://app.example.com/"><script>'}, "invalid_request"),
    ],
)
def test_untrusted_client_or_redirect_uri_shows_an_error_page_and_never_redirects(
    signed_in: HttpClient,
    confidential_client: RegisteredClient,
    change: dict[str, Any],
    expected_error: str,
) -> None:
    response = signed_in.get(authorize_url(confidential_client, **change))

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Location" not in response
    assert f"<code>{expected_error}</code>" in response.content.decode()
    assert "<script>" not in response.content.decode()


def test_disabled_client_shows_an_error_page(
    signed_in: HttpClient, make_client: Callable[..., RegisteredClient]
) -> None:
    client = make_client(is_active=False)

    response = signed_in.get(authorize_url(client))

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "<code>invalid_client</code>" in response.content.decode()


def test_redirect_uri_may_be_omitted_when_exactly_one_is_registered(
    signed_in: HttpClient, make_client: Callable[..., RegisteredClient]
) -> None:
    one = make_client(first_party=True)
    two = make_client(
        first_party=True, redirect_uris=["https://a.example/cb", "https://b.example/cb"]
    )

    for plain_oauth in (
        {"redirect_uri": None, "scope": "profile"},
        {"redirect_uri": None, "scope": None},
    ):
        assert signed_in.get(authorize_url(one, **plain_oauth))["Location"].startswith(
            "https://app.example.com/callback?code="
        )
        assert signed_in.get(authorize_url(two, **plain_oauth)).status_code == 400


def test_a_request_without_scope_is_no_openid_connect_request(
    obtain_code: Callable[..., str],
    exchange_code: Callable[..., Any],
    confidential_client: RegisteredClient,
) -> None:
    code = obtain_code(confidential_client, scope=None)

    tokens = exchange_code(confidential_client, code).json()

    assert tokens["scope"] == "profile email"
    assert "id_token" not in tokens


def test_a_request_without_scope_from_a_client_allowed_only_openid_is_invalid_scope(
    signed_in: HttpClient, make_client: Callable[..., RegisteredClient]
) -> None:
    """Its default would be no scope at all: it must ask for openid."""
    client = make_client(first_party=True, scope="openid")

    response = signed_in.get(authorize_url(client, scope=None))

    assert query(response["Location"])["error"] == "invalid_scope"


def test_openid_requests_must_name_their_redirect_uri(
    signed_in: HttpClient, make_client: Callable[..., RegisteredClient]
) -> None:
    """OIDC Core §3.1.2.1: redirect_uri is required, even with one registered."""
    client = make_client(first_party=True)

    response = signed_in.get(authorize_url(client, redirect_uri=None, scope="openid"))

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Location" not in response


def test_loopback_redirect_uri_may_use_any_port(
    signed_in: HttpClient, make_client: Callable[..., RegisteredClient]
) -> None:
    client = make_client(first_party=True, public=True, redirect_uris=["http://127.0.0.1/callback"])
    pkce = Pkce()

    response = signed_in.post(  # the answer on the consent page, asked every time (RFC 8252 §8.6)
        authorize_url(client, pkce, redirect_uri="http://127.0.0.1:51004/callback"),
        {"decision": "allow"},
    )
    other_path = signed_in.get(
        authorize_url(client, pkce, redirect_uri="http://127.0.0.1:51004/other")
    )

    assert response["Location"].startswith("http://127.0.0.1:51004/callback?code=")
    assert other_path.status_code == HTTPStatus.BAD_REQUEST


@pytest.mark.parametrize(
    ("registered", "asked"),
    [
        # The port exemption is for IP literals only (RFC 8252 §7.3, §8.3).
        ("http://localhost/callback", "http://localhost:51004/callback"),
        # Any port, but nothing else may differ.
        ("http://127.0.0.1/callback", "http://127.0.0.1:51004/callback?x=1"),
        ("http://127.0.0.1/callback?a=1", "http://127.0.0.1:51004/callback?a=2"),
        # Characters a URL parser silently drops (WHATWG URL, Python's urlsplit).
        ("http://127.0.0.1/callback", "http://127.0.0.1:51004/call\tback"),
        ("http://127.0.0.1/callback", "http://127.0.0.1:51004\n/callback"),
        ("http://127.0.0.1/callback", "http://127.0.0.1:51004/callback\r\n"),
        ("http://127.0.0.1/callback", " http://127.0.0.1:51004/callback"),
    ],
)
def test_loopback_redirect_uris_differ_in_nothing_but_the_port(
    signed_in: HttpClient, make_client: Callable[..., RegisteredClient], registered: str, asked: str
) -> None:
    client = make_client(first_party=True, public=True, redirect_uris=[registered])

    response = signed_in.get(authorize_url(client, Pkce(), redirect_uri=asked))

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Location" not in response


@pytest.mark.parametrize(
    ("change", "expected_error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": None}, "invalid_request"),
        ({"response_type": "code token"}, "unsupported_response_type"),
        ({"request": "eyJhbGciOiJub25lIn0.e30."}, "request_not_supported"),
        ({"request_uri": "https://app.example.com/r/1"}, "request_uri_not_supported"),
        ({"scope": "profile admin"}, "invalid_scope"),  # a plain OAuth request
        ({"code_challenge": "short", "code_challenge_method": "S256"}, "invalid_request"),
    ],
)
def test_errors_after_the_redirect_uri_is_verified_go_back_to_the_client(
    signed_in: HttpClient,
    confidential_client: RegisteredClient,
    change: dict[str, Any],
    expected_error: str,
) -> None:
    response = signed_in.get(authorize_url(confidential_client, state="st", **change))

    assert response.status_code == HTTPStatus.FOUND
    params = query(response["Location"])
    assert params["error"] == expected_error
    assert params["state"] == "st"
    assert params["iss"] == settings.ISSUER
    assert not AuthorizationCode.objects.exists()


def test_scope_beyond_the_clients_allowance_is_invalid_scope(
    signed_in: HttpClient, make_client: Callable[..., RegisteredClient]
) -> None:
    client = make_client(scope="openid profile")

    response = signed_in.get(authorize_url(client, scope="openid email"))

    assert query(response["Location"])["error"] == "invalid_scope"


def test_unknown_scopes_of_an_openid_request_are_ignored(
    exchange: Callable[..., dict[str, Any]], confidential_client: RegisteredClient
) -> None:
    """OIDC Core §3.1.2.1; libraries ask for offline_access and others by default."""
    tokens = exchange(confidential_client, scope="openid offline_access email address")

    assert tokens["scope"] == "openid email"


def test_repeated_parameters_are_invalid_request(
    signed_in: HttpClient, confidential_client: RegisteredClient
) -> None:
    """RFC 6749 §3.1. A repeated parameter may be the redirect_uri, so nothing is trusted."""
    for repeated in ("state=again", "redirect_uri=https://evil.example/", "nonce=a&nonce=b"):
        response = signed_in.get(authorize_url(confidential_client) + "&" + repeated)

        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert "Location" not in response
        assert "<code>invalid_request</code>" in response.content.decode()
    assert not AuthorizationCode.objects.exists()


def test_prompt_none_cannot_be_combined(
    signed_in: HttpClient, confidential_client: RegisteredClient
) -> None:
    response = signed_in.get(authorize_url(confidential_client, prompt="none login"))

    assert query(response["Location"])["error"] == "invalid_request"


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"response_mode": "fragment"}, "invalid_request"),
        ({"response_mode": "form_post"}, "invalid_request"),
        ({"prompt": "create"}, "invalid_request"),
        ({"prompt": "login bogus"}, "invalid_request"),
    ],
)
def test_response_modes_and_prompts_this_server_does_not_offer_are_refused(
    signed_in: HttpClient,
    make_client: Callable[..., RegisteredClient],
    params: dict[str, str],
    error: str,
) -> None:
    """Rather than answered in a way the client did not ask for."""
    client = make_client(first_party=True)

    response = signed_in.get(authorize_url(client, state="st", **params))

    assert query(response["Location"]) == {
        "error": error,
        "error_description": query(response["Location"])["error_description"],
        "state": "st",
        "iss": settings.ISSUER,
    }


def test_an_authorization_request_may_come_by_post(
    signed_in: HttpClient, make_client: Callable[..., RegisteredClient]
) -> None:
    """OIDC Core §3.1.2.1: GET and POST. A POSTed request becomes the same GET, where requests
    live (the way back from the sign-in page, the consent form)."""
    client = make_client(first_party=True)
    params = query(authorize_url(client, state="st"))

    posted = HttpsClient(enforce_csrf_checks=True)  # from anywhere: no CSRF token
    posted.cookies = signed_in.cookies
    response = posted.post("/oauth/authorize", params)

    assert response.status_code == HTTPStatus.SEE_OTHER
    assert query(response["Location"]) == params
    code = query(signed_in.get(response["Location"])["Location"])
    assert code["state"] == "st" and code["code"]


def test_a_posted_request_too_long_for_a_url_is_refused_with_a_page(
    make_client: Callable[..., RegisteredClient],
) -> None:
    params = query(authorize_url(make_client(first_party=True), state="s" * 4000))

    response = HttpsClient().post("/oauth/authorize", params)

    assert response.status_code == HTTPStatus.BAD_REQUEST


@pytest.mark.parametrize("prompt", [None, "login"])
def test_a_request_too_long_to_come_back_to_after_signing_in_is_refused(
    browser: HttpClient, confidential_client: RegisteredClient, user: User, prompt: str | None
) -> None:
    """The login page keeps a way back of at most 2048 characters: a longer request would be
    dropped there, and the client never answered."""
    extra = {"prompt": prompt} if prompt else {}
    long_state = "s" * 1900
    fits = browser.get(authorize_url(confidential_client, state="s" * 1500, **extra))

    response = browser.get(authorize_url(confidential_client, state=long_state, **extra))

    assert fits["Location"].startswith("/accounts/login/")
    assert response["Location"].startswith(confidential_client.model.redirect_uris[0])
    assert query(response["Location"])["error"] == "invalid_request"
    assert query(response["Location"])["state"] == long_state


def test_ui_locales_chooses_the_language_of_the_pages(
    signed_in: HttpClient, confidential_client: RegisteredClient
) -> None:
    url = authorize_url(confidential_client, ui_locales="fr-CA ko en")
    signed_out = HttpsClient()

    consent = signed_in.get(url)
    login = signed_out.get(signed_out.get(url)["Location"])

    assert consent["Content-Language"] == "ko" and "허용" in consent.content.decode()
    assert login["Content-Language"] == "ko"


def test_the_language_the_person_picks_wins_over_ui_locales(
    signed_in: HttpClient, confidential_client: RegisteredClient
) -> None:
    url = authorize_url(confidential_client, ui_locales="ko")
    assert signed_in.get(url)["Content-Language"] == "ko"

    signed_in.post("/i18n/setlang/", {"language": "en", "next": url})

    assert signed_in.get(url)["Content-Language"] == "en"
    signed_in.cookies["django_language"] = "fr"  # no language of these pages: no choice
    assert signed_in.get(url)["Content-Language"] == "ko"
