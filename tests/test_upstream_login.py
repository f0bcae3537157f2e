"""Signing in with Google, Naver and Kakao against loopback fakes over real HTTP: which account
a provider identity reaches (the linking rules), linking and unlinking, and every fault ending on
a page of ours with nothing created half-way."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import time_machine
from django.test import Client as HttpClient

from accounts.models import ProviderUnlink, SocialIdentity, User
from accounts.unlinks import provider_unlinks_run
from events.models import SecurityEvent
from tests.conftest import PASSWORD, HttpsClient, RegisteredClient, authorize_url, query

PROVIDERS = ["google", "naver", "kakao"]


def leave_for(browser: HttpClient, provider: str, **form: str) -> str:
    """Press the provider's button; return where the browser is sent."""
    response = browser.post(f"/accounts/login/{provider}/", form)
    assert response.status_code == HTTPStatus.FOUND, response.content
    return response["Location"]


def come_back(browser: HttpClient, provider_url: str) -> Any:
    """Visit the (fake) provider, which approves at once, and follow it back to our callback."""
    answer = requests.get(provider_url, allow_redirects=False, timeout=15)
    assert answer.status_code == HTTPStatus.FOUND, answer.text
    back = urlsplit(answer.headers["Location"])
    return browser.get(f"{back.path}?{back.query}")


def sign_in_with(browser: HttpClient, provider: str, **form: str) -> Any:
    return come_back(browser, leave_for(browser, provider, **form))


def signed_in_user(browser: HttpClient) -> User | None:
    user_id = browser.session.get("_auth_user_id")
    return User.objects.filter(pk=user_id).first() if user_id else None


def fake_of(upstream: Any, provider: str) -> Any:
    return getattr(upstream, provider)


def use_email(upstream: Any, provider: str, email: str, *, vouched: bool) -> None:
    """Make the fake's test person have `email`, vouched for or not, in the provider's words."""
    fake = fake_of(upstream, provider)
    if provider == "google":
        fake.user.update(email=email, email_verified=vouched)
    elif provider == "naver":
        fake.user["email"] = email
    else:
        account = fake.user["kakao_account"]
        account.update(email=email, is_email_valid=True, is_email_verified=vouched)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_first_sign_in_creates_an_account_and_the_next_one_finds_it(
    browser: HttpClient, upstream: Any, provider: str
) -> None:
    first = sign_in_with(browser, provider)

    assert first.status_code == HTTPStatus.FOUND and first["Location"] == "/accounts/"
    user = signed_in_user(browser)
    assert user is not None and not user.has_usable_password()
    identity = SocialIdentity.objects.get()
    assert identity.user == user and identity.provider == provider

    other_browser = HttpsClient()
    sign_in_with(other_browser, provider)
    assert signed_in_user(other_browser) == user
    assert SocialIdentity.objects.count() == 1 and User.objects.count() == 1
    event = SecurityEvent.objects.filter(kind="sign_in").first()
    assert event is not None and event.detail == {"method": provider}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_pending_authorization_request_survives_the_round_trip(
    browser: HttpClient, upstream: Any, provider: str
) -> None:
    next_path = "/oauth/authorize?response_type=code&client_id=x&state=s%20t"

    response = sign_in_with(browser, provider, next=next_path)

    assert response["Location"] == next_path


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example"])
def test_next_accepts_only_local_paths(browser: HttpClient, upstream: Any, target: str) -> None:
    assert sign_in_with(browser, "naver", next=target)["Location"] == "/accounts/"


@pytest.mark.parametrize(
    ("provider", "vouched", "links"),
    [
        ("google", True, True),
        ("google", False, False),
        ("kakao", True, True),
        ("kakao", False, False),
        ("naver", True, False),  # Naver never vouches for an email
        ("naver", False, False),
    ],
)
def test_an_existing_account_is_joined_by_email_only_when_both_sides_vouch(
    browser: HttpClient,
    upstream: Any,
    make_user: Callable[..., User],
    provider: str,
    vouched: bool,
    links: bool,
) -> None:
    existing = make_user("jane", email="jane@example.com", email_verified=True)
    use_email(upstream, provider, "Jane@Example.com", vouched=vouched)

    sign_in_with(browser, provider)

    user = signed_in_user(browser)
    assert (user == existing) is links
    if not links:
        assert user is not None and user.email == ""  # the address is the other account's


@pytest.mark.parametrize("provider", ["google", "kakao"])
def test_an_unverified_local_email_is_never_joined(
    browser: HttpClient, upstream: Any, make_user: Callable[..., User], provider: str
) -> None:
    existing = make_user("jane", email="jane@example.com", email_verified=False)
    use_email(upstream, provider, "jane@example.com", vouched=True)

    sign_in_with(browser, provider)

    user = signed_in_user(browser)
    assert user is not None and user != existing
    # The provider vouches for the newcomer; the account never proved the address: it moves.
    existing.refresh_from_db()
    assert existing.email == ""
    assert (user.email, user.email_verified) == ("jane@example.com", True)


def test_an_address_claimed_through_a_provider_that_does_not_vouch_goes_to_its_owner(
    db: None, upstream: Any
) -> None:
    """Naver's contact email can be set to anyone's address. Whoever signs in that way first
    must not keep the owner, who comes later through Google, from having it."""
    use_email(upstream, "naver", "victim@example.com", vouched=False)
    squatter = HttpsClient()
    sign_in_with(squatter, "naver")
    use_email(upstream, "google", "Victim@Example.com", vouched=True)
    owner = HttpsClient()
    sign_in_with(owner, "google")

    squatted, owned = signed_in_user(squatter), signed_in_user(owner)
    assert squatted is not None and owned is not None and squatted != owned
    assert (squatted.email, squatted.email_verified) == ("", False)
    assert (owned.email, owned.email_verified) == ("Victim@Example.com", True)


def test_kakao_vouches_only_when_the_email_is_valid_and_verified(
    browser: HttpClient, upstream: Any, make_user: Callable[..., User]
) -> None:
    existing = make_user("sample", email="sample@sample.com", email_verified=True)
    upstream.kakao.user["kakao_account"].update(is_email_valid=False, is_email_verified=True)

    sign_in_with(browser, "kakao")

    assert signed_in_user(browser) != existing


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_signed_in_person_links_a_provider_and_can_unlink_it(
    signed_in: HttpClient, upstream: Any, user: User, provider: str
) -> None:
    response = sign_in_with(signed_in, provider, link="1")

    assert response["Location"] == "/accounts/"
    identity = SocialIdentity.objects.get()
    assert identity.user == user
    assert "Unlink" in signed_in.get("/accounts/").content.decode()

    signed_in.post(f"/accounts/identities/{identity.pk}/unlink")

    assert not SocialIdentity.objects.exists()
    kinds = set(SecurityEvent.objects.values_list("kind", flat=True))
    assert {"identity_linked", "identity_unlinked"} <= kinds


def test_unlinking_kakao_on_the_account_page_tells_kakao_through_the_worker(
    signed_in: HttpClient, upstream: Any, settings: Any
) -> None:
    sign_in_with(signed_in, "kakao", link="1")
    identity = SocialIdentity.objects.get()
    kakao_unlink_url = settings.KAKAO_UNLINK_URL
    settings.KAKAO_UNLINK_URL = "http://127.0.0.1:9/v1/user/unlink"  # Kakao away for now

    response = signed_in.post(f"/accounts/identities/{identity.pk}/unlink")

    assert response.status_code == HTTPStatus.FOUND  # the person never waits for Kakao
    assert not SocialIdentity.objects.exists()
    assert provider_unlinks_run() == 0
    unlink = ProviderUnlink.objects.get()
    assert unlink.attempts == 1 and unlink.delivered_at is None
    settings.KAKAO_UNLINK_URL = kakao_unlink_url
    ProviderUnlink.objects.update(next_attempt_at=unlink.created_at)

    assert provider_unlinks_run() == 1

    (call,) = [r for r in upstream.kakao.requests if r.path == "/kakao/v1/user/unlink"]
    assert call.headers["authorization"] == f"KakaoAK {upstream.kakao.admin_key}"
    assert call.form == {"target_id_type": "user_id", "target_id": identity.uid}
    event = SecurityEvent.objects.get(kind="identity_unlinked")
    assert event.detail == {"provider": "kakao", "by": "person", "provider_told": True}


@pytest.mark.parametrize("provider", ["google", "naver"])
def test_unlinking_another_provider_queues_nothing(
    signed_in: HttpClient, upstream: Any, provider: str
) -> None:
    sign_in_with(signed_in, provider, link="1")

    signed_in.post(f"/accounts/identities/{SocialIdentity.objects.get().pk}/unlink")

    assert not SocialIdentity.objects.exists() and not ProviderUnlink.objects.exists()


def test_linking_an_identity_that_belongs_to_someone_else_is_refused(
    browser: HttpClient, upstream: Any, make_user: Callable[..., User]
) -> None:
    sign_in_with(browser, "naver")  # creates the account that owns this Naver identity
    other = HttpsClient()
    other.force_login(make_user("bob"))

    response = sign_in_with(other, "naver", link="1")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert 'data-reason="linked_elsewhere"' in response.content.decode()
    assert SocialIdentity.objects.get().user.username != "bob"


def test_unlinking_the_last_way_to_sign_in_is_refused(browser: HttpClient, upstream: Any) -> None:
    sign_in_with(browser, "kakao")
    identity = SocialIdentity.objects.get()

    browser.post(f"/accounts/identities/{identity.pk}/unlink")

    assert SocialIdentity.objects.filter(pk=identity.pk).exists()
    assert "only way you can sign in" in browser.get("/accounts/").content.decode()


def test_unlinking_someone_elses_identity_changes_nothing(
    browser: HttpClient, upstream: Any, signed_in: HttpClient
) -> None:
    other = HttpsClient()
    sign_in_with(other, "google")
    identity = SocialIdentity.objects.get()

    signed_in.post(f"/accounts/identities/{identity.pk}/unlink")

    assert SocialIdentity.objects.filter(pk=identity.pk).exists()


def test_login_page_offers_only_configured_providers_in_both_languages(
    browser: HttpClient, upstream: Any, settings: Any
) -> None:
    settings.GOOGLE_CLIENT_ID = ""

    english = browser.get("/accounts/login/").content.decode()
    korean = browser.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()

    assert "Login with Naver" in english and "Login with Kakao" in english
    assert "Google" not in english
    assert "네이버 로그인" in korean and "카카오 로그인" in korean
    assert browser.post("/accounts/login/google/").status_code == HTTPStatus.NOT_FOUND


# Faults: each ends on our page, with a way back, a warning logged, nothing created.


def assert_failed_cleanly(
    response: Any, reason: str, caplog: pytest.LogCaptureFixture, *, recorded: bool = True
) -> None:
    assert response.status_code in {HTTPStatus.BAD_REQUEST, HTTPStatus.BAD_GATEWAY}
    page = response.content.decode()
    assert f'data-reason="{reason}"' in page
    assert 'href="/accounts/login/' in page
    assert any(record.levelno == logging.WARNING for record in caplog.records)
    assert not User.objects.exists() and not SocialIdentity.objects.exists()
    # A callback without a valid state is anyone's GET: logged, but no row written for it.
    assert SecurityEvent.objects.filter(kind="sign_in_failed").exists() is recorded


@pytest.mark.parametrize("provider", PROVIDERS)
def test_cancelling_at_the_provider(
    browser: HttpClient, upstream: Any, provider: str, caplog: pytest.LogCaptureFixture
) -> None:
    fake_of(upstream, provider).deny = True

    assert_failed_cleanly(sign_in_with(browser, provider), "denied", caplog)


@pytest.mark.parametrize(("provider", "name"), [("naver", "네이버"), ("kakao", "카카오")])
def test_a_providers_name_is_said_in_the_pages_language(
    browser: HttpClient, upstream: Any, provider: str, name: str
) -> None:
    fake_of(upstream, provider).deny = True
    browser.cookies["django_language"] = "ko"

    page = sign_in_with(browser, provider).content.decode()

    assert f"{name} 로그인을 마치지 못했습니다" in page
    # Changing the language goes back to the login page, not to this one-time callback URL.
    assert 'name="next" type="hidden" value="/accounts/login/' in page


GOOGLE_UNKNOWN = {"error": "invalid_client", "error_description": "The OAuth client was not found."}
NAVER_BAD_CLIENT = {"error": "invalid_client", "error_description": "client authentication failed"}
TOKEN_ERRORS = {
    "google": [(400, {"error": "invalid_grant", "error_description": "Bad Request"}),
               (401, GOOGLE_UNKNOWN)],
    "naver": [(200, {"error": "invalid_request", "error_description": "no valid data in session"}),
              (200, NAVER_BAD_CLIENT)],
    "kakao": [(400, {"error": "invalid_grant", "error_description": "authorization code not found",
                     "error_code": "KOE320"}),
              (401, {"error": "invalid_client", "error_description": "Bad client credentials",
                     "error_code": "KOE010"})],
}  # fmt: skip


@pytest.mark.parametrize(
    ("provider", "status", "body"),
    [(provider, *error) for provider, errors in TOKEN_ERRORS.items() for error in errors],
)
def test_the_code_exchange_refused(
    browser: HttpClient,
    upstream: Any,
    provider: str,
    status: int,
    body: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_of(upstream, provider).token_error = (status, body)

    assert_failed_cleanly(sign_in_with(browser, provider), "refused", caplog)


PROFILE_ERRORS = {
    "google": [(401, {"error": "invalid_token"})],
    "naver": [(401, {"resultcode": "024", "message": "Authentication failed"}),
              (200, {"resultcode": "028", "message": "Authentication header not exists"})],
    "kakao": [(401, {"msg": "this access token does not exist", "code": -401})],
}  # fmt: skip


@pytest.mark.parametrize(
    ("provider", "status", "body"),
    [(provider, *error) for provider, errors in PROFILE_ERRORS.items() for error in errors],
)
def test_the_profile_call_refused(
    browser: HttpClient,
    upstream: Any,
    provider: str,
    status: int,
    body: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_of(upstream, provider).profile_error = (status, body)

    assert_failed_cleanly(sign_in_with(browser, provider), "refused", caplog)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_provider_slower_than_the_timeout(
    browser: HttpClient,
    upstream: Any,
    settings: Any,
    provider: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings.UPSTREAM_TIMEOUT = 1
    fake_of(upstream, provider).delay = 2

    assert_failed_cleanly(sign_in_with(browser, provider), "unavailable", caplog)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_provider_that_is_down(
    browser: HttpClient,
    upstream: Any,
    settings: Any,
    provider: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    provider_url = leave_for(browser, provider)
    setattr(settings, f"{provider.upper()}_TOKEN_URL", "http://127.0.0.1:9/token")  # nothing there

    assert_failed_cleanly(come_back(browser, provider_url), "unavailable", caplog)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_provider_dripping_its_answer_is_cut_off_at_the_timeout(
    browser: HttpClient,
    upstream: Any,
    settings: Any,
    provider: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The timeout bounds the whole answer, not each wait for a byte: a token response sent a
    byte every 50 ms would take many seconds, each byte well within the timeout."""
    settings.UPSTREAM_TIMEOUT = 1
    fake_of(upstream, provider).drip = 0.05

    assert_failed_cleanly(sign_in_with(browser, provider), "unavailable", caplog)


@pytest.mark.parametrize("where", ["token_error", "profile_error"])
def test_an_answer_larger_than_any_provider_sends_is_refused(
    browser: HttpClient, upstream: Any, caplog: pytest.LogCaptureFixture, where: str
) -> None:
    padding = "x" * (2 << 20)
    answer = {"access_token": "t", "token_type": "bearer", "padding": padding}
    if where == "profile_error":
        answer = {
            "resultcode": "00",
            "message": "success",
            "response": {"id": "1", "padding": padding},
        }
    setattr(upstream.naver, where, (200, answer))

    assert_failed_cleanly(sign_in_with(browser, "naver"), "invalid", caplog)


@pytest.mark.parametrize(
    ("error", "reason"),
    [("server_error", "unavailable"), ("temporarily_unavailable", "unavailable"),
     ("invalid_scope", "refused"), ("misconfigured", "refused"), ("", "refused")],
)  # fmt: skip
def test_only_access_denied_is_the_person_cancelling(
    browser: HttpClient, upstream: Any, error: str, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    state = query(leave_for(browser, "kakao"))["state"]

    response = browser.get("/accounts/callback/kakao/", {"error": error, "state": state})

    assert_failed_cleanly(response, reason, caplog)


@pytest.mark.parametrize(
    "tamper",
    ["missing", "unknown", "reused", "expired", "other-session", "other-provider"],
)
def test_state_must_be_this_sessions_fresh_and_unused(
    browser: HttpClient, upstream: Any, tamper: str, caplog: pytest.LogCaptureFixture
) -> None:
    provider_url = leave_for(browser, "naver")
    answer = requests.get(provider_url, allow_redirects=False, timeout=15)
    back = urlsplit(answer.headers["Location"])
    params = {key: values[0] for key, values in parse_qs(back.query).items()}
    path = back.path

    if tamper == "missing":
        params.pop("state")
    elif tamper == "unknown":
        params["state"] = "made-up"
    elif tamper == "reused":
        browser.get(path, params)
        browser.logout()
        SecurityEvent.objects.all().delete()
        User.objects.all().delete()
    elif tamper == "other-session":
        browser = HttpsClient()
    elif tamper == "other-provider":
        path = path.replace("naver", "kakao")
    if tamper == "expired":
        with time_machine.travel(time.time() + 601):
            response = browser.get(path, params)
    else:
        response = browser.get(path, params)

    assert_failed_cleanly(response, "state", caplog, recorded=False)


def test_a_new_account_needs_an_email(
    browser: HttpClient, upstream: Any, caplog: pytest.LogCaptureFixture
) -> None:
    account = upstream.kakao.user["kakao_account"]
    for key in ("email", "is_email_valid", "is_email_verified"):
        account.pop(key, None)
    account["email_needs_agreement"] = True

    assert_failed_cleanly(sign_in_with(browser, "kakao"), "email_missing", caplog)


def test_a_known_identity_without_email_still_signs_in(browser: HttpClient, upstream: Any) -> None:
    sign_in_with(browser, "naver")
    upstream.naver.user.pop("email")

    again = HttpsClient()
    sign_in_with(again, "naver")

    assert signed_in_user(again) == signed_in_user(browser)


def test_a_disabled_account_cannot_sign_in_through_a_provider(
    browser: HttpClient, upstream: Any, caplog: pytest.LogCaptureFixture
) -> None:
    sign_in_with(browser, "google")
    User.objects.update(is_active=False)

    response = sign_in_with(HttpsClient(), "google")

    assert 'data-reason="inactive"' in response.content.decode()


def test_failed_upstream_sign_in_does_not_bypass_the_password(
    browser: HttpClient, upstream: Any, user: User
) -> None:
    """The password account stays reachable by password only; upstream never signs into it
    without a vouched email (the rules above)."""
    upstream.naver.user["email"] = user.email

    sign_in_with(browser, "naver")

    assert signed_in_user(browser) != user
    assert (
        HttpsClient()
        .post("/accounts/login/", {"username": user.username, "password": PASSWORD})
        .status_code
        == HTTPStatus.FOUND
    )


def test_a_disabled_account_is_not_replaced_by_a_fresh_one(
    browser: HttpClient, upstream: Any, make_user: Callable[..., User]
) -> None:
    make_user("jane", email="jane@example.com", email_verified=True, is_active=False)

    response = sign_in_with(browser, "google")

    assert 'data-reason="inactive"' in response.content.decode()
    assert User.objects.count() == 1 and signed_in_user(browser) is None


@pytest.mark.parametrize("expires_in", [{}, [1], 1e309, "soon"])
def test_an_unreadable_token_response_is_refused(
    browser: HttpClient, upstream: Any, expires_in: Any, caplog: pytest.LogCaptureFixture
) -> None:
    upstream.naver.token_error = (200, {"access_token": "a", "token_type": "bearer",
                                        "expires_in": expires_in})  # fmt: skip

    response = sign_in_with(browser, "naver")

    # Refused one way or another (the body, or the profile call with its made-up token).
    reason = "invalid" if 'data-reason="invalid"' in response.content.decode() else "refused"
    assert_failed_cleanly(response, reason, caplog)


def test_odd_bytes_from_a_provider_are_not_stored(browser: HttpClient, upstream: Any) -> None:
    upstream.naver.user.update(name="Bad\x00Name\x07", nickname="n\x00")
    upstream.naver.user["extra"] = {"key\x00": ["v\x00"]}

    sign_in_with(browser, "naver")

    identity = SocialIdentity.objects.get()
    assert identity.name == "BadName"
    assert identity.raw_profile["response"]["extra"] == {"key": ["v"]}


def test_text_no_database_can_hold_from_a_provider_is_not_stored(
    browser: HttpClient, upstream: Any
) -> None:
    """Lone UTF-16 surrogates (a name cut mid-emoji, sent as JSON's escape), NaN and infinity
    (which Python's JSON parser accepts): stored without them."""
    upstream.naver.user.update(name="Cut \ud83d", nickname="\udc00nick")
    upstream.naver.user["extra"] = [float("nan"), float("inf"), "\ud800"]

    sign_in_with(browser, "naver")

    identity = SocialIdentity.objects.get()
    assert identity.name == identity.user.name == "Cut "
    assert identity.raw_profile["response"]["extra"] == [None, None, ""]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_profile_nested_deeper_than_any_honest_one_is_stored_cut(
    browser: HttpClient, upstream: Any, provider: str
) -> None:
    """JSON the parser reads, nested deeper than storing it could walk."""
    fake_of(upstream, provider).user["extra"] = json.loads("[" * 500 + "]" * 500)

    sign_in_with(browser, provider)

    assert signed_in_user(browser) is not None
    stored = json.dumps(SocialIdentity.objects.get().raw_profile)
    assert "[" * 30 in stored and "[" * 40 not in stored


@pytest.mark.parametrize("where", ["token_error", "profile_error"])
def test_json_nested_too_deep_to_parse_is_refused(
    browser: HttpClient, upstream: Any, caplog: pytest.LogCaptureFixture, where: str
) -> None:
    setattr(upstream.naver, where, (200, b"[" * 100_000 + b"]" * 100_000))

    response = sign_in_with(browser, "naver")

    assert_failed_cleanly(response, "invalid", caplog)


def fresh_sign_in_demanded(browser: HttpClient, client: RegisteredClient, **params: str) -> str:
    """Where the login page returns after an authorization request that demands a fresh
    sign-in (its `next`)."""
    response = browser.get(authorize_url(client, **params))
    assert response["Location"].startswith("/accounts/login/")
    return parse_qs(urlsplit(response["Location"]).query)["next"][0]


@pytest.mark.parametrize(
    ("provider", "asks_again", "demand"),
    [
        ("kakao", {"prompt": "login"}, {"prompt": "login"}),
        ("kakao", {"prompt": "login"}, {"max_age": "0"}),
    ],
)
def test_a_fresh_sign_in_asks_the_provider_for_the_credentials_again(
    browser: HttpClient,
    upstream: Any,
    make_client: Callable[..., RegisteredClient],
    provider: str,
    asks_again: dict[str, str],
    demand: dict[str, str],
) -> None:
    """OIDC Core §3.1.2.1: prompt=login and max_age want credentials presented now, not a
    session at the provider answering with one click."""
    client = make_client(first_party=True)
    sign_in_with(browser, provider)
    next_path = fresh_sign_in_demanded(browser, client, **demand)

    page = browser.get("/accounts/login/", {"next": next_path})
    provider_url = leave_for(browser, provider, next=next_path)
    answer = browser.get(come_back(browser, provider_url)["Location"])

    sent = parse_qs(urlsplit(provider_url).query)
    assert {name: sent.get(name) for name in asks_again} == {
        name: [value] for name, value in asks_again.items()
    }
    assert [p.id for p in page.context["providers"]] == ["kakao"]  # its id_token proves it
    assert "code" in query(answer["Location"])


@pytest.mark.parametrize("auth_time", [3600, None])
def test_a_provider_whose_id_token_shows_no_fresh_sign_in_is_refused_for_one(
    browser: HttpClient,
    upstream: Any,
    make_client: Callable[..., RegisteredClient],
    caplog: pytest.LogCaptureFixture,
    auth_time: int | None,
) -> None:
    """Kakao was asked for prompt=login, but its id_token says the person signed in an hour
    ago (or does not say when): its session answered, not the person."""
    client = make_client(first_party=True)
    sign_in_with(browser, "kakao")
    next_path = fresh_sign_in_demanded(browser, client, prompt="login")
    upstream.kakao.id_token_claims = {
        "auth_time": None if auth_time is None else int(time.time()) - auth_time
    }

    response = come_back(browser, leave_for(browser, "kakao", next=next_path))

    assert 'data-reason="reauthentication"' in response.content.decode()
    assert any(record.levelno == logging.WARNING for record in caplog.records)


@pytest.mark.parametrize("provider", ["google", "naver", "kakao without OpenID Connect"])
def test_a_provider_that_cannot_prove_a_fresh_sign_in_cannot_stand_for_one(
    browser: HttpClient,
    upstream: Any,
    make_client: Callable[..., RegisteredClient],
    settings: Any,
    provider: str,
) -> None:
    """Google's prompt has no `login`; Naver's answer, and Kakao's without an id_token, carry
    no auth_time: nothing shows the person presented credentials, whatever was asked (a
    parameter on the redirect is the client's to strip)."""
    if provider.startswith("kakao"):
        provider, settings.KAKAO_SCOPES = "kakao", "profile_nickname account_email"
    client = make_client(first_party=True)
    sign_in_with(browser, provider)
    next_path = fresh_sign_in_demanded(browser, client, prompt="login")

    page = browser.get("/accounts/login/", {"next": next_path})
    refused = browser.post(f"/accounts/login/{provider}/", {"next": next_path})
    still = browser.get(next_path)

    assert provider not in [p.id for p in page.context["providers"]]
    assert refused.status_code == HTTPStatus.BAD_REQUEST
    assert 'data-reason="reauthentication"' in refused.content.decode()
    assert still["Location"].startswith("/accounts/login/")  # no code without a fresh sign-in


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_one_click_sign_in_started_elsewhere_is_no_fresh_sign_in(
    browser: HttpClient, upstream: Any, make_client: Callable[..., RegisteredClient], provider: str
) -> None:
    """Signing in through a provider from the login page without the demanding request (so
    the provider is not asked to take the credentials again), then going back to it."""
    client = make_client(first_party=True)
    sign_in_with(browser, provider)
    next_path = fresh_sign_in_demanded(browser, client, prompt="login")

    sign_in_with(browser, provider)
    still = browser.get(next_path)

    assert still["Location"].startswith("/accounts/login/")


def test_max_age_counts_from_credentials_not_from_a_one_click_sign_in(
    browser: HttpClient, upstream: Any, make_client: Callable[..., RegisteredClient]
) -> None:
    client = make_client(first_party=True)
    sign_in_with(browser, "google")

    response = browser.get(authorize_url(client, max_age="3600"))

    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_ordinary_sign_in_does_not_ask_for_the_credentials_again(
    browser: HttpClient, upstream: Any, provider: str
) -> None:
    sent = parse_qs(urlsplit(leave_for(browser, provider, next="/accounts/")).query)

    assert "auth_type" not in sent and "prompt" not in sent


def test_a_callback_is_answered_once(
    browser: HttpClient, upstream: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The state is used up by its callback, in the same session too."""
    answer = requests.get(leave_for(browser, "naver"), allow_redirects=False, timeout=15)
    back = urlsplit(answer.headers["Location"])

    first = browser.get(f"{back.path}?{back.query}")
    again = browser.get(f"{back.path}?{back.query}")

    assert first.status_code == HTTPStatus.FOUND
    assert again.status_code == HTTPStatus.BAD_REQUEST
    assert 'data-reason="state"' in again.content.decode()


@pytest.mark.parametrize("uid", ["12\x003", "12\n3", "x" * 256])
def test_a_provider_id_no_one_could_have_is_refused(
    browser: HttpClient, upstream: Any, uid: str, caplog: pytest.LogCaptureFixture
) -> None:
    upstream.naver.user["id"] = uid

    assert_failed_cleanly(sign_in_with(browser, "naver"), "invalid", caplog)


def test_a_naver_sign_in_with_its_reauthentication_stripped_meets_no_fresh_sign_in_demand(
    browser: HttpClient, upstream: Any, make_client: Callable[..., RegisteredClient]
) -> None:
    """The attack that was seen: the demanding request's sign-in sent through Naver, with
    auth_type=reauthenticate taken off the way there; Naver answers with one click and no
    auth_time, and the app got a code as if the person had signed in afresh."""
    client = make_client(first_party=True)
    sign_in_with(browser, "naver")
    next_path = fresh_sign_in_demanded(browser, client, prompt="login")
    pending = {"next": next_path, "csrfmiddlewaretoken": "unused"}

    started = browser.post("/accounts/login/naver/", pending)
    if started.status_code == HTTPStatus.FOUND:  # the old way: off to Naver, then back
        stripped = started["Location"].replace("&auth_type=reauthenticate", "")
        come_back(browser, stripped)
    still = browser.get(next_path)

    assert started.status_code == HTTPStatus.BAD_REQUEST
    assert still["Location"].startswith("/accounts/login/")
