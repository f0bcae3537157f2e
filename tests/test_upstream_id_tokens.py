"""id_tokens from Google and Kakao (OpenID Connect Core §3.1.3.7): signature by the provider's
JWKS, issuer (Google's two spellings), audience, expiry and nonce, or no sign-in at all."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client as HttpClient

from accounts.models import SocialIdentity, User
from tests.test_upstream_login import assert_failed_cleanly, sign_in_with, signed_in_user

OPENID_PROVIDERS = ["google", "kakao"]


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "someone-else"},
        {"iss": "https://evil.example"},
        {"nonce": "not-the-one-sent"},
        {"exp": int(time.time()) - 3600},
        {"sub": "another-person"},
        {"at_hash": "AAAAAAAAAAAAAAAAAAAAAA"},
        {"azp": "another-client"},
    ],
    ids=["aud", "iss", "nonce", "expired", "sub", "at_hash", "azp"],
)
@pytest.mark.parametrize("provider", OPENID_PROVIDERS)
def test_a_bad_id_token_signs_no_one_in(
    browser: HttpClient,
    upstream: Any,
    provider: str,
    claims: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    getattr(upstream, provider).id_token_claims = claims

    assert_failed_cleanly(sign_in_with(browser, provider), "invalid", caplog)


@pytest.mark.parametrize("provider", OPENID_PROVIDERS)
def test_an_id_token_signed_with_another_key(
    browser: HttpClient, upstream: Any, provider: str, caplog: pytest.LogCaptureFixture
) -> None:
    getattr(upstream, provider).sign_with_wrong_key = True

    assert_failed_cleanly(sign_in_with(browser, provider), "invalid", caplog)


@pytest.mark.parametrize("spelling", ["url", "bare"])
def test_google_issuer_is_accepted_in_both_spellings(
    browser: HttpClient, upstream: Any, spelling: str
) -> None:
    upstream.google.issuer_spelling = spelling

    sign_in_with(browser, "google")

    assert signed_in_user(browser) is not None


def test_kakao_without_openid_signs_in_from_the_profile_alone(
    browser: HttpClient, upstream: Any, settings: Any
) -> None:
    settings.KAKAO_SCOPES = "profile_nickname account_email"

    sign_in_with(browser, "kakao")

    assert SocialIdentity.objects.get().uid == "123456789"
    authorize = next(r for r in upstream.kakao.requests if r.path.endswith("/oauth/authorize"))
    assert "nonce" not in authorize.query
    assert User.objects.count() == 1


@pytest.mark.parametrize("flag", ["false", "False", 0, "no", None])
def test_google_vouches_only_with_email_verified_true(
    browser: HttpClient, upstream: Any, make_user: Callable[..., User], flag: Any
) -> None:
    """A string "false" is truthy: only true (or "true") may join an account by email."""
    existing = make_user("jane", email="jane@example.com", email_verified=True)
    upstream.google.user.update(email="jane@example.com", email_verified=flag)

    sign_in_with(browser, "google")

    assert signed_in_user(browser) not in (None, existing)


def test_the_signed_id_token_outweighs_the_userinfo(
    browser: HttpClient, upstream: Any, make_user: Callable[..., User]
) -> None:
    """Userinfo is not signed: what the id_token says of the email wins."""
    existing = make_user("jane", email="jane@example.com", email_verified=True)
    upstream.google.user.update(email="jane@example.com", email_verified=True)
    upstream.google.id_token_claims = {"email_verified": False}

    sign_in_with(browser, "google")

    assert signed_in_user(browser) not in (None, existing)
