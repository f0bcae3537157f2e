"""Done when: a real client library registers a client over HTTP with an initial access token
(RFC 7591), then runs the authorization-code flow with it as a team member; a person outside
the team is refused while the app is in development; after approval anyone may use it."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any

import requests
from authlib.integrations.requests_client import OAuth2Session

from accounts.models import User
from developers.models import ReviewRequest
from developers.reviews import review_decide, review_request
from developers.tokens import initial_token_create
from oauth.models import Client
from tests.conftest import PASSWORD
from tests.test_end_to_end import sign_in_and_allow

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def signed_in_elsewhere(authorization_url: str, username: str) -> requests.Response:
    """Another person's browser signs in and follows the request back to the app's page."""
    browser = requests.Session()
    page = browser.get(authorization_url, timeout=10)
    return browser.post(
        page.url,
        data={"csrfmiddlewaretoken": CSRF.search(page.text).group(1),  # type: ignore[union-attr]
              "username": username, "password": PASSWORD},
        headers={"Referer": page.url},
        timeout=10,
    )  # fmt: skip


def test_register_then_sign_in_as_the_team_and_after_approval_as_anyone(
    live: str, user: User, make_user: Callable[..., User]
) -> None:
    server: dict[str, Any] = requests.get(
        f"{live}/.well-known/openid-configuration", timeout=10
    ).json()
    outsider = make_user("bob")
    initial = initial_token_create(owner_id=user.pk)[1]

    registered = requests.post(
        server["registration_endpoint"],
        json={
            "client_name": "Self-registered",
            "redirect_uris": ["https://self.example/cb"],
            "grant_types": ["authorization_code", "refresh_token"],
            "scope": "openid profile",
        },
        headers={"Authorization": f"Bearer {initial}"},
        timeout=10,
    )
    assert registered.status_code == 201
    body = registered.json()

    oauth = OAuth2Session(
        body["client_id"], body["client_secret"], scope="openid profile",
        redirect_uri="https://self.example/cb", code_challenge_method="S256",
    )  # fmt: skip
    verifier = secrets.token_urlsafe(48)
    url, _state = oauth.create_authorization_url(
        server["authorization_endpoint"], code_verifier=verifier, nonce="n1"
    )

    refused = signed_in_elsewhere(url, outsider.username)
    assert refused.status_code == 403 and "still in development" in refused.text
    assert "error=access_denied" in refused.text

    redirect = sign_in_and_allow(url, user.username, PASSWORD)
    token = oauth.fetch_token(
        server["token_endpoint"], authorization_response=redirect, code_verifier=verifier
    )
    assert token["token_type"].lower() == "bearer" and "refresh_token" in token

    client = Client.objects.get(client_id=body["client_id"])
    review_request(client=client, user_id=user.pk)
    review_decide(ReviewRequest.objects.get(), approve=True, reason="", actor_id=None)

    url, _state = oauth.create_authorization_url(
        server["authorization_endpoint"], code_verifier=verifier, nonce="n2"
    )
    redirect = sign_in_and_allow(url, outsider.username, PASSWORD)
    assert "code=" in redirect
