"""The whole thing over real HTTP: a third-party app sends a person here, the person signs in
with Google, Naver or Kakao (loopback fakes), allows the app, and the app gets this server's
tokens, whose `sub` is the local account, never the provider's tokens."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.jwk import KeySet

from accounts.models import SocialIdentity
from tests.conftest import RegisteredClient, follow

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def app_signs_in(live: str, client: RegisteredClient, provider: str) -> dict[str, Any]:
    """The app's authorization request, a person choosing `provider`, consent, and the tokens."""
    app = OAuth2Session(
        client.client_id,
        client.secret,
        scope="openid profile email",
        redirect_uri=client.model.redirect_uris[0],
        code_challenge_method="S256",
    )
    verifier = secrets.token_urlsafe(48)
    url, _ = app.create_authorization_url(f"{live}/oauth/authorize", code_verifier=verifier)
    browser = requests.Session()
    at_app = lambda url: url.startswith(client.model.redirect_uris[0])  # noqa: E731

    login_page = follow(browser, url, until=at_app)
    assert "/accounts/login/" in login_page.url
    next_path = parse_qs(urlsplit(login_page.url).query)["next"][0]
    answer = follow(
        browser, f"{live}/accounts/login/{provider}/", method="POST",
        data={"csrfmiddlewaretoken": CSRF.search(login_page.text).group(1), "next": next_path},  # type: ignore[union-attr]
        until=at_app,
    )  # fmt: skip
    if answer.status_code == 200:  # the consent page, the first time
        assert "wants to use your account" in answer.text
        answer = follow(
            browser, answer.url, method="POST",
            data={"csrfmiddlewaretoken": CSRF.search(answer.text).group(1), "decision": "allow"},  # type: ignore[union-attr]
            until=at_app,
        )  # fmt: skip
    redirect = answer
    return app.fetch_token(
        f"{live}/oauth/token", authorization_response=redirect.headers["Location"],
        code_verifier=verifier,
    )  # fmt: skip


@pytest.mark.parametrize("provider", ["google", "naver", "kakao"])
def test_an_app_gets_this_servers_tokens_for_a_person_who_signed_in_upstream(
    live: str, upstream: Any, make_client: Callable[..., RegisteredClient], provider: str
) -> None:
    client = make_client(name=f"{provider} app")

    tokens = app_signs_in(live, client, provider)

    identity = SocialIdentity.objects.get(provider=provider)
    keys = KeySet.import_key_set(requests.get(f"{live}/oauth/jwks", timeout=10).json())
    access = jwt.decode(tokens["access_token"], keys).claims
    id_token = jwt.decode(tokens["id_token"], keys).claims
    assert access["iss"] == id_token["iss"] == live
    assert access["sub"] == id_token["sub"] == str(identity.user_id)
    assert id_token["aud"] == client.client_id
    upstream_tokens = {r.path for r in getattr(upstream, provider).requests}
    assert any("token" in path for path in upstream_tokens)
    for secret in ("fake", "AAAA"):  # the fakes' access tokens start like this
        assert not tokens["access_token"].startswith(secret)

    again = app_signs_in(live, client, provider)
    assert jwt.decode(again["access_token"], keys).claims["sub"] == access["sub"]


@pytest.mark.parametrize(
    ("provider", "names"),
    [
        ("google", {"name": "Jane Doe", "given_name": "Jane", "family_name": "Doe"}),
        # One string each: no given or family name is made up from it.
        ("naver", {"name": "오픈 API"}),
        ("kakao", {"name": "홍길동"}),
    ],
)
def test_the_apps_learn_the_names_the_provider_gave_each_in_its_claim(
    live: str,
    upstream: Any,
    make_client: Callable[..., RegisteredClient],
    provider: str,
    names: dict[str, str],
) -> None:
    client = make_client(name=f"{provider} app")

    tokens = app_signs_in(live, client, provider)

    keys = KeySet.import_key_set(requests.get(f"{live}/oauth/jwks", timeout=10).json())
    id_token = jwt.decode(tokens["id_token"], keys).claims
    userinfo = requests.get(
        f"{live}/oauth/userinfo",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=10,
    ).json()
    assert {key: userinfo[key] for key in userinfo.keys() & NAME_CLAIMS} == names
    assert not NAME_CLAIMS & set(id_token)  # the id_token says who, UserInfo the rest
    assert userinfo["picture"].startswith("http")  # the provider's picture of the person


NAME_CLAIMS = {"name", "given_name", "family_name"}
