"""The consent page and its answer: RFC 6749 §4.1.2 and §4.1.2.1 (a code, or access_denied,
sent back with the state), §10.12 (CSRF on the form); RFC 9700 §4.12 (303, never re-posted);
OpenID Connect Core §3.1.2.4 (consent, remembered), §3.1.2.1 and §3.1.2.6 (prompt=consent,
prompt=none: consent_required); RFC 9207 (the `iss` response parameter)."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus

import pytest
from django.conf import settings
from django.test import Client as HttpClient

from accounts.models import User
from oauth.models import AuthorizationCode, Consent
from tests.conftest import HttpsClient, RegisteredClient, authorize_url, query


def test_consent_page_names_the_client_and_each_scope_in_plain_words(
    signed_in: HttpClient, confidential_client: RegisteredClient
) -> None:
    response = signed_in.get(authorize_url(confidential_client, scope="openid email"))

    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert "Photo printer" in page
    assert "See your email address" in page
    assert "See your name" not in page
    assert 'value="allow"' in page and 'value="deny"' in page
    assert "csrfmiddlewaretoken" in page
    assert response["Cache-Control"] == "no-store"


def test_the_consent_page_names_where_the_person_returns_by_its_host_in_ascii(
    signed_in: HttpClient, make_client: Callable[..., RegisteredClient]
) -> None:
    """A look-alike letter (Cyrillic а in аpple.com) shows in the ASCII form browsers fall
    back to."""
    client = make_client(redirect_uris=["https://\u0430pple.com:8443/cb"])

    page = signed_in.get(authorize_url(client)).content.decode()

    assert "<strong>xn--pple-43d.com:8443</strong>" in page


def test_the_consent_page_shows_the_apps_logo_and_home_page(
    signed_in: HttpClient, confidential_client: RegisteredClient
) -> None:
    client = confidential_client.model
    client.logo_uri = "https://printer.example/logo.png?a=1&b=2"
    client.homepage_uri = "https://printer.example/"
    client.save()

    page = signed_in.get(authorize_url(confidential_client)).content.decode()

    assert 'src="https://printer.example/logo.png?a=1&amp;b=2"' in page
    assert 'href="https://printer.example/"' in page


def test_allow_redirects_with_code_state_and_issuer(
    signed_in: HttpClient, confidential_client: RegisteredClient
) -> None:
    url = authorize_url(confidential_client, state="xyz-123")

    response = signed_in.post(url, {"decision": "allow"})

    assert response.status_code == HTTPStatus.SEE_OTHER  # never re-posted (RFC 9700 §4.12)
    location = response["Location"]
    assert location.startswith(confidential_client.model.redirect_uris[0] + "?")
    params = query(location)
    assert params["state"] == "xyz-123"
    assert params["iss"] == settings.ISSUER
    assert len(params["code"]) >= 43
    stored = AuthorizationCode.objects.get()
    assert params["code"] not in stored.code_hash  # only the hash is kept


def test_deny_redirects_with_access_denied_and_issues_nothing(
    signed_in: HttpClient, confidential_client: RegisteredClient
) -> None:
    url = authorize_url(confidential_client, state="s1")

    response = signed_in.post(url, {"decision": "deny"})

    params = query(response["Location"])
    assert params["error"] == "access_denied"
    assert params["state"] == "s1"
    assert params["iss"] == settings.ISSUER
    assert not AuthorizationCode.objects.exists()
    assert not Consent.objects.exists()


def test_consent_is_remembered_for_the_same_scopes(
    signed_in: HttpClient, confidential_client: RegisteredClient
) -> None:
    url = authorize_url(confidential_client, scope="openid profile")
    signed_in.post(url, {"decision": "allow"})

    again = signed_in.get(authorize_url(confidential_client, scope="openid"))
    wider = signed_in.get(authorize_url(confidential_client, scope="openid email"))

    assert again.status_code == HTTPStatus.FOUND
    assert "code" in query(again["Location"])
    assert wider.status_code == HTTPStatus.OK  # asks again for the new scope


def test_consent_is_remembered_per_client(
    signed_in: HttpClient, make_client: Callable[..., RegisteredClient]
) -> None:
    first, second = make_client(), make_client()
    signed_in.post(authorize_url(first), {"decision": "allow"})

    assert signed_in.get(authorize_url(second)).status_code == HTTPStatus.OK


def test_first_party_clients_skip_consent(
    signed_in: HttpClient, make_client: Callable[..., RegisteredClient]
) -> None:
    client = make_client(first_party=True)

    response = signed_in.get(authorize_url(client))

    assert response.status_code == HTTPStatus.FOUND
    assert "code" in query(response["Location"])
    assert not Consent.objects.exists()


def test_prompt_consent_asks_again(
    signed_in: HttpClient, confidential_client: RegisteredClient
) -> None:
    signed_in.post(authorize_url(confidential_client), {"decision": "allow"})

    response = signed_in.get(authorize_url(confidential_client, prompt="consent"))

    assert response.status_code == HTTPStatus.OK


def test_prompt_consent_asks_even_first_party_clients(
    signed_in: HttpClient, make_client: Callable[..., RegisteredClient]
) -> None:
    client = make_client(first_party=True)

    assert signed_in.get(authorize_url(client, prompt="consent")).status_code == HTTPStatus.OK


def test_prompt_none_without_consent_returns_consent_required(
    signed_in: HttpClient, confidential_client: RegisteredClient
) -> None:
    response = signed_in.get(authorize_url(confidential_client, prompt="none"))

    assert query(response["Location"])["error"] == "consent_required"


def test_prompt_none_with_consent_issues_a_code_silently(
    signed_in: HttpClient, confidential_client: RegisteredClient
) -> None:
    signed_in.post(authorize_url(confidential_client), {"decision": "allow"})

    response = signed_in.get(authorize_url(confidential_client, prompt="none"))

    assert "code" in query(response["Location"])


def test_consent_form_needs_its_csrf_token(
    user: User, confidential_client: RegisteredClient
) -> None:
    browser = HttpsClient(enforce_csrf_checks=True)
    browser.force_login(user)

    response = browser.post(authorize_url(confidential_client), {"decision": "allow"})

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert not AuthorizationCode.objects.exists()


@pytest.mark.parametrize(
    "body",
    [{"decision": "allow", "nonce": "a\x00b"}, {"decision": "allow", "client_id": "other"},
     {"decision": "allow", "nonce": "n" * 5000}],
)  # fmt: skip
def test_consent_post_carries_only_the_answer(
    signed_in: HttpClient, confidential_client: RegisteredClient, body: dict[str, str]
) -> None:
    response = signed_in.post(authorize_url(confidential_client), body)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not AuthorizationCode.objects.exists()
