"""What each provider is sent and how its answer is read, as the fakes record it: the wire
details the providers document (Naver's state at the exchange and string expires_in, Kakao's form
content type and comma-separated scopes, PKCE and nonce where they belong)."""

from __future__ import annotations

from typing import Any

from django.test import Client as HttpClient

from accounts.models import SocialIdentity
from tests.conftest import Pkce
from tests.test_upstream_login import leave_for, sign_in_with


def recorded(fake: Any, suffix: str) -> Any:
    return next(request for request in fake.requests if request.path.endswith(suffix))


def test_google_uses_pkce_nonce_and_reads_the_verified_claims(
    browser: HttpClient, upstream: Any
) -> None:
    sign_in_with(browser, "google")

    authorize = recorded(upstream.google, "/o/oauth2/v2/auth")
    token = recorded(upstream.google, "/token")
    assert authorize.query["code_challenge_method"] == "S256"
    assert authorize.query["code_challenge"] == Pkce(token.form["code_verifier"]).challenge
    assert authorize.query["nonce"] and "openid" in authorize.query["scope"].split()
    identity = SocialIdentity.objects.get()
    assert identity.uid == "110169484474386276334"
    assert identity.email == "jane@example.com" and identity.email_verified
    assert identity.name == "Jane Doe"


def test_naver_sends_state_at_the_exchange_and_reads_a_string_expires_in(
    browser: HttpClient, upstream: Any
) -> None:
    sign_in_with(browser, "naver")

    authorize = recorded(upstream.naver, "/oauth2.0/authorize")
    token = recorded(upstream.naver, "/oauth2.0/token")
    sent = {**token.query, **token.form}
    assert sent["state"] == authorize.query["state"]
    assert sent["client_secret"] == upstream.naver.client_secret
    assert "code_challenge" not in authorize.query  # classic endpoints: no PKCE
    identity = SocialIdentity.objects.get()
    assert identity.uid == "32742776" and not identity.email_verified
    assert identity.raw_profile["resultcode"] == "00"


def test_naver_new_style_ids(browser: HttpClient, upstream: Any) -> None:
    upstream.naver.user["id"] = "Ab3_-kLm9" * 7

    sign_in_with(browser, "naver")

    assert SocialIdentity.objects.get().uid == "Ab3_-kLm9" * 7


def test_kakao_gets_a_form_pkce_comma_scopes_and_the_secret_when_configured(
    browser: HttpClient, upstream: Any
) -> None:
    sign_in_with(browser, "kakao")

    authorize = recorded(upstream.kakao, "/oauth/authorize")
    token = recorded(upstream.kakao, "/oauth/token")
    assert token.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert token.form["client_secret"] == upstream.kakao.client_secret
    assert authorize.query["scope"] == "openid,profile_nickname,profile_image,account_email"
    assert authorize.query["code_challenge"] == Pkce(token.form["code_verifier"]).challenge
    identity = SocialIdentity.objects.get()
    assert identity.uid == "123456789" and identity.email_verified
    assert identity.name == "홍길동"


def test_kakao_without_a_secret_authenticates_by_client_id(
    browser: HttpClient, upstream: Any, settings: Any
) -> None:
    settings.KAKAO_CLIENT_SECRET = ""
    upstream.kakao.client_secret = ""

    sign_in_with(browser, "kakao")

    token = recorded(upstream.kakao, "/oauth/token")
    assert "client_secret" not in token.form and token.form["client_id"]
    assert SocialIdentity.objects.exists()


def test_redirect_uri_comes_from_the_issuer_not_the_host_header(
    browser: HttpClient, upstream: Any, settings: Any
) -> None:
    settings.ISSUER = "https://auth.example.com"

    location = leave_for(browser, "google")

    assert (
        "redirect_uri=https%3A%2F%2Fauth.example.com%2Faccounts%2Fcallback%2Fgoogle%2F" in location
    )
