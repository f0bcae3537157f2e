"""The authorization endpoint and the code grant: RFC 6749 §4.1, §4.1.2.1, §10.6; OpenID Connect
Core §3.1.2 (prompt, max_age, nonce); RFC 9207 (the `iss` response parameter)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from http import HTTPStatus
from io import StringIO
from typing import Any
from urllib.parse import unquote

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.test import Client as HttpClient
from joserfc import jwt
from joserfc.jwk import RSAKey

from accounts.models import User
from oauth import services
from oauth.models import AuthorizationCode, Consent, Grant
from tests.conftest import PASSWORD, HttpsClient, Pkce, RegisteredClient, authorize_url, query


def test_signed_out_person_is_sent_to_the_login_page_and_back(
    browser: HttpClient, confidential_client: RegisteredClient, user: User
) -> None:
    url = authorize_url(confidential_client)

    response = browser.get(url)

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/accounts/login/?next=")
    response = browser.post(
        response["Location"], {"username": user.username, "password": PASSWORD, "next": url}
    )
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == url


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


def test_prompt_none_without_session_returns_login_required(
    browser: HttpClient, confidential_client: RegisteredClient
) -> None:
    response = browser.get(authorize_url(confidential_client, prompt="none", state="s"))

    params = query(response["Location"])
    assert params["error"] == "login_required"
    assert params["state"] == "s"
    assert params["iss"] == settings.ISSUER


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


def test_prompt_none_cannot_be_combined(
    signed_in: HttpClient, confidential_client: RegisteredClient
) -> None:
    response = signed_in.get(authorize_url(confidential_client, prompt="none login"))

    assert query(response["Location"])["error"] == "invalid_request"


def next_of(response: Any) -> str:
    """The `next` of a redirect to the login page."""
    location = response["Location"]
    assert location.startswith("/accounts/login/?next=")
    return unquote(location.removeprefix("/accounts/login/?next="))


def test_prompt_login_requires_signing_in_again_then_proceeds(
    signed_in: HttpClient, confidential_client: RegisteredClient, user: User
) -> None:
    url = authorize_url(confidential_client, prompt="login")

    back_to = next_of(signed_in.get(url))
    skipped = signed_in.get(back_to)  # coming straight back without signing in does not count
    signed_in.post(
        "/accounts/login/", {"username": user.username, "password": PASSWORD, "next": back_to}
    )
    after_login = signed_in.get(back_to)

    assert skipped["Location"].startswith("/accounts/login/")
    assert after_login.status_code == HTTPStatus.OK  # the consent page


def test_prompt_login_when_signed_out_needs_one_sign_in(
    browser: HttpClient, confidential_client: RegisteredClient, user: User
) -> None:
    back_to = next_of(browser.get(authorize_url(confidential_client, prompt="login")))

    signed = browser.post(
        "/accounts/login/", {"username": user.username, "password": PASSWORD, "next": back_to}
    )

    assert signed["Location"] == back_to
    assert browser.get(back_to).status_code == HTTPStatus.OK


def test_prompt_login_lets_someone_else_sign_in(
    signed_in: HttpClient, confidential_client: RegisteredClient, make_user: Any
) -> None:
    make_user("bob")
    back_to = next_of(signed_in.get(authorize_url(confidential_client, prompt="login")))

    signed_in.post("/accounts/login/", {"username": "bob", "password": PASSWORD, "next": back_to})
    consent = signed_in.get(back_to)

    assert consent.status_code == HTTPStatus.OK
    assert "bob" in consent.content.decode()


def test_forged_reauthentication_note_does_not_count(
    signed_in: HttpClient, confidential_client: RegisteredClient
) -> None:
    url = authorize_url(confidential_client, prompt="login", login_required_after="forged")

    assert signed_in.get(url)["Location"].startswith("/accounts/login/")


def test_max_age_exceeded_requires_signing_in_again(
    browser: HttpClient, confidential_client: RegisteredClient, user: User
) -> None:
    with time_machine.travel("2030-01-01 10:00:00", tick=False):
        browser.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    with time_machine.travel("2030-01-01 10:10:00", tick=False):
        fresh_enough = browser.get(authorize_url(confidential_client, max_age="900"))
        too_old = browser.get(authorize_url(confidential_client, max_age="300"))
        silent = browser.get(authorize_url(confidential_client, max_age="300", prompt="none"))

    assert fresh_enough.status_code == HTTPStatus.OK
    assert too_old["Location"].startswith("/accounts/login/")
    assert query(silent["Location"])["error"] == "login_required"


def test_max_age_must_be_a_number(
    signed_in: HttpClient, confidential_client: RegisteredClient
) -> None:
    response = signed_in.get(authorize_url(confidential_client, max_age="soon"))

    assert query(response["Location"])["error"] == "invalid_request"


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

    response = signed_in.get(
        authorize_url(client, pkce, redirect_uri="http://127.0.0.1:51004/callback")
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


def test_consent_form_needs_its_csrf_token(
    user: User, confidential_client: RegisteredClient
) -> None:
    browser = HttpsClient(enforce_csrf_checks=True)
    browser.force_login(user)

    response = browser.post(authorize_url(confidential_client), {"decision": "allow"})

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert not AuthorizationCode.objects.exists()


def test_code_is_exchanged_once_for_tokens(
    obtain_code: Callable[..., str],
    token_request: Callable[..., Any],
    confidential_client: RegisteredClient,
) -> None:
    code = obtain_code(confidential_client)
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": ""}
    data["redirect_uri"] = confidential_client.model.redirect_uris[0]
    auth = (confidential_client.client_id, confidential_client.secret)

    response = token_request(data, auth=auth)

    assert response.status_code == HTTPStatus.OK
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == settings.ACCESS_TOKEN_LIFETIME
    assert body["scope"] == "openid profile email"
    assert {"access_token", "refresh_token", "id_token"} <= body.keys()
    assert Grant.objects.get().user.username == "alice"


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


def test_replayed_code_fails_and_revokes_the_tokens_of_its_first_use(
    obtain_code: Callable[..., str],
    token_request: Callable[..., Any],
    confidential_client: RegisteredClient,
    browser: HttpClient,
) -> None:
    code = obtain_code(confidential_client)
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": confidential_client.model.redirect_uris[0],
    }
    auth = (confidential_client.client_id, confidential_client.secret)
    first = token_request(data, auth=auth).json()

    replay = token_request(data, auth=auth)
    refresh = token_request(
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}, auth=auth
    )

    assert replay.status_code == HTTPStatus.BAD_REQUEST
    assert replay.json()["error"] == "invalid_grant"
    assert refresh.json()["error"] == "invalid_grant"
    assert Grant.objects.get().revoked_at is not None
    # Clearing revoked grants must not make the code look unused while it is still live.
    call_command("cleartokens", stdout=StringIO())
    assert token_request(data, auth=auth).json()["error"] == "invalid_grant"
    assert Grant.objects.get().revoked_at is not None


def test_a_code_replayed_after_it_expired_still_revokes_the_tokens_of_its_first_use(
    obtain_code: Callable[..., str],
    exchange_code: Callable[..., Any],
    token_request: Callable[..., Any],
    confidential_client: RegisteredClient,
) -> None:
    code = obtain_code(confidential_client)
    first = exchange_code(confidential_client, code).json()

    with time_machine.travel(time.time() + settings.AUTHORIZATION_CODE_LIFETIME + 1):
        replay = exchange_code(confidential_client, code)
        refresh = token_request(
            {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
            auth=(confidential_client.client_id, confidential_client.secret),
        )

    assert replay.json()["error"] == "invalid_grant"
    assert refresh.json()["error"] == "invalid_grant"
    assert Grant.objects.get().revoked_at is not None


@pytest.mark.parametrize("meanwhile", ["revoked", "cleared"])
def test_a_code_voided_or_cleared_after_it_was_read_starts_no_grant(
    obtain_code: Callable[..., str],
    confidential_client: RegisteredClient,
    user: User,
    meanwhile: str,
) -> None:
    """The interleaving of an exchange with a person revoking the app, or with cleartokens
    (the code expiring in between): no live grant, and no database error (a 500)."""
    client = confidential_client.model
    found = services.code_find(code=obtain_code(confidential_client), client=client)
    assert found is not None
    if meanwhile == "revoked":
        services.consent_withdraw(user=user, client=client)
    else:
        AuthorizationCode.objects.filter(pk=found.pk).delete()

    with pytest.raises(services.CodeGone):
        services.code_exchange(code=found, grant_id=uuid.uuid4(), refresh_token="r" * 43)

    assert not Grant.objects.exists()


def test_a_code_of_a_person_disabled_since_is_refused(
    obtain_code: Callable[..., str],
    token_request: Callable[..., Any],
    confidential_client: RegisteredClient,
    user: User,
) -> None:
    code = obtain_code(confidential_client)
    User.objects.filter(pk=user.pk).update(is_active=False)

    response = token_request(
        {"grant_type": "authorization_code", "code": code,
         "redirect_uri": confidential_client.model.redirect_uris[0]},
        auth=(confidential_client.client_id, confidential_client.secret),
    )  # fmt: skip

    assert response.json()["error"] == "invalid_grant"
    assert not Grant.objects.exists()


def test_code_expires_after_its_lifetime(
    browser: HttpClient,
    user: User,
    token_request: Callable[..., Any],
    make_client: Callable[..., RegisteredClient],
) -> None:
    confidential_client = make_client(first_party=True)
    with time_machine.travel("2030-01-01 10:00:00", tick=False):
        browser.force_login(user)
        code = query(browser.get(authorize_url(confidential_client))["Location"])["code"]
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": confidential_client.model.redirect_uris[0],
    }
    auth = (confidential_client.client_id, confidential_client.secret)

    with time_machine.travel("2030-01-01 10:01:01", tick=False):
        late = token_request(data, auth=auth)
    with time_machine.travel("2030-01-01 10:00:59", tick=False):
        in_time = token_request(data, auth=auth)

    assert late.json()["error"] == "invalid_grant"
    assert in_time.status_code == HTTPStatus.OK


@pytest.mark.parametrize(
    "redirect_uri", ["https://app.example.com/other", "", None], ids=["other", "empty", "missing"]
)
def test_code_needs_the_same_redirect_uri(
    obtain_code: Callable[..., str],
    token_request: Callable[..., Any],
    confidential_client: RegisteredClient,
    redirect_uri: str | None,
) -> None:
    data = {"grant_type": "authorization_code", "code": obtain_code(confidential_client)}
    if redirect_uri is not None:
        data["redirect_uri"] = redirect_uri

    response = token_request(data, auth=(confidential_client.client_id, confidential_client.secret))

    assert response.json()["error"] == "invalid_grant"
    assert not Grant.objects.exists()
    assert AuthorizationCode.objects.get().issued_grant is None


def test_code_issued_to_another_client_is_invalid_grant(
    obtain_code: Callable[..., str],
    token_request: Callable[..., Any],
    make_client: Callable[..., RegisteredClient],
) -> None:
    victim, attacker = make_client(), make_client()
    data = {
        "grant_type": "authorization_code",
        "code": obtain_code(victim),
        "redirect_uri": victim.model.redirect_uris[0],
    }

    response = token_request(data, auth=(attacker.client_id, attacker.secret))

    assert response.json()["error"] == "invalid_grant"
    assert AuthorizationCode.objects.get().issued_grant is None


def test_nonce_and_auth_time_reach_the_id_token(
    exchange: Callable[..., dict[str, Any]], confidential_client: RegisteredClient
) -> None:
    import jwt

    tokens = exchange(confidential_client, nonce="n-0S6_WzA2Mj")
    claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})

    assert claims["nonce"] == "n-0S6_WzA2Mj"
    assert isinstance(claims["auth_time"], int)


def test_prompt_consent_asks_even_first_party_clients(
    signed_in: HttpClient, make_client: Callable[..., RegisteredClient]
) -> None:
    client = make_client(first_party=True)

    assert signed_in.get(authorize_url(client, prompt="consent")).status_code == HTTPStatus.OK


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


def test_unknown_scopes_of_an_openid_request_are_ignored(
    exchange: Callable[..., dict[str, Any]], confidential_client: RegisteredClient
) -> None:
    """OIDC Core §3.1.2.1; libraries ask for offline_access and others by default."""
    tokens = exchange(confidential_client, scope="openid offline_access email address")

    assert tokens["scope"] == "openid email"


def id_token_for(person: User, client: RegisteredClient, **claims: Any) -> str:
    """An id_token this server signed for `client` about `person` (as its token endpoint does)."""
    from oauth.keys import active_signing_key

    values = {"iss": settings.ISSUER, "sub": str(person.sub), "aud": client.client_id, **claims}
    return jwt.encode({"alg": "RS256"}, values, active_signing_key("RS256"))


def test_an_id_token_hint_naming_the_signed_in_person_is_answered_even_expired(
    signed_in: HttpClient,
    exchange: Callable[..., dict[str, Any]],
    confidential_client: RegisteredClient,
) -> None:
    hint = exchange(confidential_client)["id_token"]

    with time_machine.travel(time.time() + 86400):
        response = signed_in.get(
            authorize_url(confidential_client, prompt="none", id_token_hint=hint)
        )

    assert "code" in query(response["Location"])


def test_an_id_token_hint_naming_someone_else_is_never_answered_for_the_signed_in_person(
    signed_in: HttpClient,
    user: User,
    make_client: Callable[..., RegisteredClient],
    make_user: Callable[..., User],
) -> None:
    """OIDC Core §3.1.2.1: silently, login_required; otherwise the person signs in afresh, and
    if that is still not the hinted person, login_required."""
    client = make_client(first_party=True)
    hint = id_token_for(make_user("bob"), client)

    silent = signed_in.get(authorize_url(client, prompt="none", id_token_hint=hint))
    back_to = next_of(signed_in.get(authorize_url(client, id_token_hint=hint)))
    signed_in.post(
        "/accounts/login/", {"username": user.username, "password": PASSWORD, "next": back_to}
    )
    after_signing_in_as_herself = signed_in.get(back_to)

    assert query(silent["Location"])["error"] == "login_required"
    assert query(after_signing_in_as_herself["Location"])["error"] == "login_required"
    assert not AuthorizationCode.objects.exists()


def test_signed_out_the_hinted_person_signs_in_once(
    browser: HttpClient, make_client: Callable[..., RegisteredClient], user: User
) -> None:
    client = make_client(first_party=True)
    back_to = next_of(browser.get(authorize_url(client, id_token_hint=id_token_for(user, client))))

    browser.post(
        "/accounts/login/", {"username": user.username, "password": PASSWORD, "next": back_to}
    )

    assert "code" in query(browser.get(back_to)["Location"])


@pytest.mark.parametrize(
    "hint",
    ["not-a-jwt", "a.b.c", "forged", "other-issuer", "other-client", "an-access-token"],
)
def test_an_id_token_hint_that_this_server_did_not_issue_to_the_client_is_invalid_request(
    signed_in: HttpClient,
    make_client: Callable[..., RegisteredClient],
    user: User,
    exchange: Callable[..., dict[str, Any]],
    hint: str,
) -> None:
    """Checked, so that no client can ask whether the visitor is someone it has no id_token of."""
    client = make_client(first_party=True)
    real = id_token_for(user, client)
    hints = {
        "forged": real.rsplit(".", 1)[0] + ".c2lnbmF0dXJl",
        "other-issuer": id_token_for(user, client, iss="https://elsewhere.example"),
        "other-client": id_token_for(user, client, aud="someone-else"),
        "an-access-token": exchange(client)["access_token"],
    }

    response = signed_in.get(authorize_url(client, id_token_hint=hints.get(hint, hint)))

    assert query(response["Location"])["error"] == "invalid_request"


def test_an_id_token_hint_whose_key_is_no_longer_published_is_ignored(
    signed_in: HttpClient,
    make_client: Callable[..., RegisteredClient],
    make_user: Callable[..., User],
) -> None:
    client = make_client(first_party=True)
    gone = jwt.encode(
        {"alg": "RS256", "kid": "long-retired"},
        {"iss": settings.ISSUER, "sub": "someone", "aud": client.client_id},
        RSAKey.generate_key(2048),
    )

    response = signed_in.get(authorize_url(client, prompt="none", id_token_hint=gone))

    assert "code" in query(response["Location"])


def test_a_posted_request_too_long_for_a_url_is_refused_with_a_page(
    make_client: Callable[..., RegisteredClient],
) -> None:
    params = query(authorize_url(make_client(first_party=True), state="s" * 4000))

    response = HttpsClient().post("/oauth/authorize", params)

    assert response.status_code == HTTPStatus.BAD_REQUEST


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


def test_prompt_select_account_shows_the_sign_in_page(
    signed_in: HttpClient, make_client: Callable[..., RegisteredClient]
) -> None:
    """Where another account can be chosen (OIDC Core §3.1.2.1)."""
    client = make_client(first_party=True)

    response = signed_in.get(authorize_url(client, prompt="select_account"))

    assert response["Location"].startswith("/accounts/login/")


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
