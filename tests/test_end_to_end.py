"""The whole flow over real HTTP against a live server, as third-party apps run it: authlib's
OAuth2Session and requests-oauthlib, a person's browser session done with `requests`.

authorize (sign in + consent) → code → tokens → userinfo → refresh → revoke → introspection
says inactive.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.jwk import KeySet
from requests_oauthlib import OAuth2Session as RequestsOAuthlibSession

from accounts.models import User
from tests.conftest import PASSWORD, RegisteredClient

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture
def server(live: str) -> dict[str, Any]:
    """The live server's discovery document; its issuer is the live server's URL."""
    return requests.get(f"{live}/.well-known/openid-configuration", timeout=10).json()


def person_approves(server: dict[str, Any], authorization_url: str, user: User) -> str:
    """A person's browser: sign in, allow on the consent page; return the redirect it gets."""
    browser = requests.Session()
    page = browser.get(authorization_url, timeout=10)  # redirected to the login page
    assert "/accounts/login/" in page.url
    page = browser.post(
        page.url,
        data={
            "csrfmiddlewaretoken": CSRF.search(page.text).group(1),  # type: ignore[union-attr]
            "username": user.username,
            "password": PASSWORD,
        },
        headers={"Referer": page.url},
        timeout=10,
    )
    assert "wants to use your account" in page.text  # back at authorize: the consent page
    approved = browser.post(
        page.url,
        data={"csrfmiddlewaretoken": CSRF.search(page.text).group(1), "decision": "allow"},  # type: ignore[union-attr]
        allow_redirects=False,
        timeout=10,
    )
    assert approved.status_code == 303
    return approved.headers["Location"]


def verify(token: str, server: dict[str, Any]) -> dict[str, Any]:
    keys = KeySet.import_key_set(requests.get(server["jwks_uri"], timeout=10).json())
    return jwt.decode(token, keys).claims


def test_full_flow_with_authlib(
    server: dict[str, Any], user: User, make_client: Callable[..., RegisteredClient]
) -> None:
    client = make_client(name="Authlib app")
    oauth = OAuth2Session(
        client.client_id,
        client.secret,
        scope="openid profile email",
        redirect_uri=client.model.redirect_uris[0],
        code_challenge_method="S256",
    )
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(12)
    url, state = oauth.create_authorization_url(
        server["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )

    redirect = person_approves(server, url, user)
    assert f"iss={requests.utils.quote(server['issuer'], safe='')}" in redirect
    token = oauth.fetch_token(
        server["token_endpoint"], authorization_response=redirect, code_verifier=verifier
    )

    id_claims = verify(token["id_token"], server)
    assert id_claims["nonce"] == nonce and id_claims["aud"] == client.client_id
    assert verify(token["access_token"], server)["sub"] == str(user.pk)

    userinfo = oauth.get(server["userinfo_endpoint"]).json()
    assert userinfo["sub"] == str(user.pk) and userinfo["email"] == user.email

    refreshed = oauth.refresh_token(server["token_endpoint"])
    assert refreshed["refresh_token"] != token["refresh_token"]
    assert oauth.get(server["userinfo_endpoint"]).status_code == 200

    revoked = oauth.revoke_token(
        server["revocation_endpoint"],
        token=refreshed["refresh_token"],
        token_type_hint="refresh_token",
    )
    assert revoked.status_code == 200

    introspection = oauth.introspect_token(
        server["introspection_endpoint"], token=refreshed["access_token"]
    ).json()
    assert introspection == {"active": False}
    again = requests.post(
        server["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": refreshed["refresh_token"]},
        auth=(client.client_id, client.secret or ""),
        timeout=10,
    )
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def readme_sample() -> tuple[str, str]:
    """The README's Authlib sample, in two parts: up to the person's visit, and after it."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    sample = readme.split("With Authlib:\n\n```python\n", 1)[1].split("```", 1)[0]
    visit = "# 1. Send the person's browser"
    before, after = sample.split(visit, 1)
    return before, visit + after


def test_the_readme_sample_runs_as_written(
    live: str, user: User, make_client: Callable[..., RegisteredClient]
) -> None:
    client = make_client(redirect_uris=["https://printer.example/callback"])
    before, after = readme_sample()
    issuer_line = 'ISSUER = "https://auth.example.com"\n'
    assert issuer_line in before
    run: dict[str, Any] = {"CLIENT_ID": client.client_id, "CLIENT_SECRET": client.secret}

    exec(before.replace(issuer_line, f"ISSUER = {live!r}\n"), run)
    run["callback_url"] = person_approves(run["meta"], run["url"], user)
    exec(after, run)

    assert run["profile"]["sub"] == str(user.pk)
    refreshed = run["token"]["refresh_token"]
    after_revocation = requests.post(
        run["meta"]["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": refreshed},
        auth=(client.client_id, client.secret or ""),
        timeout=10,
    )
    assert after_revocation.json()["error"] == "invalid_grant"


def test_full_flow_with_requests_oauthlib_as_a_public_client(
    server: dict[str, Any],
    user: User,
    make_client: Callable[..., RegisteredClient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the live server is plain http
    client = make_client(name="Native app", public=True, redirect_uris=["http://127.0.0.1/cb"])
    oauth = RequestsOAuthlibSession(
        client.client_id,
        redirect_uri="http://127.0.0.1:53682/cb",  # RFC 8252: any port on loopback
        scope=["openid", "profile"],
        pkce="S256",
    )
    url, _state = oauth.authorization_url(server["authorization_endpoint"])

    redirect = person_approves(server, url, user)
    token = oauth.fetch_token(
        server["token_endpoint"], authorization_response=redirect, include_client_id=True
    )
    assert token["scope"] == ["openid", "profile"]

    userinfo = oauth.get(server["userinfo_endpoint"]).json()
    assert userinfo == {
        "sub": str(user.pk),
        "name": "Alice Example",
        "preferred_username": "alice",
        "given_name": "Alice",
        "family_name": "Example",
    }

    refreshed = oauth.refresh_token(server["token_endpoint"], client_id=client.client_id)
    assert refreshed["access_token"] != token["access_token"]

    revoked = requests.post(
        server["revocation_endpoint"],
        data={"token": refreshed["access_token"], "client_id": client.client_id},
        timeout=10,
    )
    assert revoked.status_code == 200
    stale = requests.post(
        server["token_endpoint"],
        data={
            "grant_type": "refresh_token",
            "refresh_token": refreshed["refresh_token"],
            "client_id": client.client_id,
        },
        timeout=10,
    )
    assert stale.json()["error"] == "invalid_grant"
