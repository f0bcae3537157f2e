"""The loopback fakes of Google, Naver and Kakao speak the providers' documented wire formats.

Driven over real HTTP with `requests`, as the sign-in code drives the real providers, so a test
of the sign-in that passes against these fakes has met the real shapes, statuses and quirks.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import requests
from django.core.management import call_command
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet

from fakeproviders import FakeProvider, FakeProviders
from tests.conftest import Pkce, query
from tests.test_settings import manage

ROOT = Path(__file__).resolve().parent.parent
REDIRECT_URI = "https://app.example.com/accounts/callback?from=fake"
FORM_UTF8 = "application/x-www-form-urlencoded;charset=utf-8"
AUTHORIZE = {
    "google": "/google/o/oauth2/v2/auth",
    "naver": "/naver/oauth2.0/authorize",
    "kakao": "/kakao/oauth/authorize",
}


@pytest.fixture(scope="module")
def fakes() -> Iterator[FakeProviders]:
    server = FakeProviders()
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def fresh(fakes: FakeProviders) -> None:
    fakes.reset()


# Helpers: what a client does


def pkce_pair() -> tuple[str, str]:
    pkce = Pkce()
    return pkce.verifier, pkce.challenge


def callback(response: requests.Response) -> dict[str, str]:
    """The query of a 302 back to the client, checking it does go back to the client."""
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    assert location.startswith("https://app.example.com/accounts/callback?from=fake&")
    return query(location)


def authorize(fakes: FakeProviders, provider: str, **params: str) -> dict[str, str]:
    """An approved authorization request's callback parameters."""
    getattr(fakes, provider).auto_approve = True
    values = {
        "response_type": "code",
        "client_id": getattr(fakes, provider).client_id,
        "redirect_uri": REDIRECT_URI,
        "state": "st-" + secrets.token_hex(4),
        **params,
    }
    response = requests.get(fakes.url + AUTHORIZE[provider], values, allow_redirects=False)
    return callback(response)


def verify(id_token: str, jwks_url: str) -> dict[str, Any]:
    keys = KeySet.import_key_set(requests.get(jwks_url, timeout=5).json())
    return jwt.decode(id_token, keys, algorithms=["RS256"]).claims


def expected_at_hash(access_token: str) -> str:
    digest = hashlib.sha256(access_token.encode()).digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class FormReader(HTMLParser):
    """The approval page's form: its action, inputs and buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.inputs: dict[str, str] = {}
        self.buttons: list[dict[str, str]] = []
        self.title = ""
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.action = values["action"]
        elif tag == "input" and values.get("type") == "hidden":
            self.inputs[values["name"]] = values["value"]
        elif tag == "button":
            self.buttons.append({**values, "text": ""})
        self._in = tag

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "button":
            self.buttons[-1]["text"] += data
        elif self._in == "title":
            self.title += data


# Google


def google_code(fakes: FakeProviders, **params: str) -> tuple[dict[str, str], str]:
    verifier, challenge = pkce_pair()
    values = {
        "scope": "openid email profile",
        "nonce": "n-0394852",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **params,
    }
    return authorize(fakes, "google", **values), verifier


def google_exchange(fakes: FakeProviders, code: str, verifier: str, **data: str) -> Any:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
        "client_id": fakes.google.client_id,
        "client_secret": fakes.google.client_secret,
        **data,
    }
    return requests.post(fakes.settings()["GOOGLE_TOKEN_URL"], data=form, timeout=5)


def test_google_happy_path(fakes: FakeProviders) -> None:
    settings = fakes.settings()
    discovery = requests.get(f"{fakes.url}/google/.well-known/openid-configuration").json()
    assert discovery["issuer"] == settings["GOOGLE_ISSUER"]
    assert discovery["authorization_endpoint"] == settings["GOOGLE_AUTHORIZE_URL"]
    assert discovery["token_endpoint"] == settings["GOOGLE_TOKEN_URL"]
    assert discovery["userinfo_endpoint"] == settings["GOOGLE_USERINFO_URL"]
    assert discovery["jwks_uri"] == settings["GOOGLE_JWKS_URL"]

    back, verifier = google_code(fakes, state="xyz", access_type="offline")
    assert back["state"] == "xyz"
    assert back["code"].startswith("4/0A")
    assert back["authuser"] == "0" and back["prompt"] == "consent"
    assert "https://www.googleapis.com/auth/userinfo.email" in back["scope"].split()

    # HTTP Basic client authentication, as well as the body's.
    response = requests.post(
        settings["GOOGLE_TOKEN_URL"],
        data={
            "grant_type": "authorization_code",
            "code": back["code"],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        auth=(fakes.google.client_id, fakes.google.client_secret),
    )
    assert response.status_code == 200, response.text
    token = response.json()
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 3599
    assert token["refresh_token"].startswith("1//")
    claims = verify(token["id_token"], settings["GOOGLE_JWKS_URL"])
    assert claims["iss"] == settings["GOOGLE_ISSUER"]
    assert claims["aud"] == claims["azp"] == fakes.google.client_id
    assert claims["sub"] == "110169484474386276334"
    assert claims["nonce"] == "n-0394852"
    assert claims["email"] == "jane@example.com" and claims["email_verified"] is True
    assert claims["at_hash"] == expected_at_hash(token["access_token"])
    assert claims["exp"] - claims["iat"] == 3600

    userinfo = requests.get(settings["GOOGLE_USERINFO_URL"], headers=bearer(token["access_token"]))
    assert userinfo.status_code == 200
    assert userinfo.json() == fakes.google.user

    [token_request] = [r for r in fakes.google.requests if r.path == "/google/token"]
    assert token_request.method == "POST"
    assert token_request.headers["authorization"].startswith("Basic ")
    assert token_request.form["code"] == back["code"]


def test_google_refresh_token_only_with_offline_access_and_not_rotated(
    fakes: FakeProviders,
) -> None:
    back, verifier = google_code(fakes)
    token = google_exchange(fakes, back["code"], verifier).json()
    assert "refresh_token" not in token

    back, verifier = google_code(fakes, access_type="offline")
    token = google_exchange(fakes, back["code"], verifier).json()
    refreshed = requests.post(
        fakes.settings()["GOOGLE_TOKEN_URL"],
        data={
            "grant_type": "refresh_token",
            "refresh_token": token["refresh_token"],
            "client_id": fakes.google.client_id,
            "client_secret": fakes.google.client_secret,
        },
    )
    assert refreshed.status_code == 200
    assert "refresh_token" not in refreshed.json()
    assert refreshed.json()["access_token"] != token["access_token"]

    # Only the first offline exchange for a client gets one, unless prompt=consent.
    back, verifier = google_code(fakes, access_type="offline")
    assert "refresh_token" not in google_exchange(fakes, back["code"], verifier).json()
    back, verifier = google_code(fakes, access_type="offline", prompt="consent")
    assert "refresh_token" in google_exchange(fakes, back["code"], verifier).json()


def test_google_code_is_single_use(fakes: FakeProviders) -> None:
    back, verifier = google_code(fakes)
    assert google_exchange(fakes, back["code"], verifier).status_code == 200

    again = google_exchange(fakes, back["code"], verifier)
    assert again.status_code == 400
    assert again.json() == {"error": "invalid_grant", "error_description": "Bad Request"}


@pytest.mark.parametrize(
    ("client", "status", "body"),
    [
        (
            {"client_id": "someone-else"},
            401,
            {"error": "invalid_client", "error_description": "The OAuth client was not found."},
        ),
        (
            {"client_secret": "wrong"},
            401,
            {"error": "invalid_client", "error_description": "Unauthorized"},
        ),
    ],
)
def test_google_bad_client(
    fakes: FakeProviders, client: dict[str, str], status: int, body: dict[str, str]
) -> None:
    back, verifier = google_code(fakes)

    response = google_exchange(fakes, back["code"], verifier, **client)

    assert (response.status_code, response.json()) == (status, body)
    # A refused client did not use up the code.
    assert google_exchange(fakes, back["code"], verifier).status_code == 200


def test_google_pkce_and_redirect_uri_are_checked(fakes: FakeProviders) -> None:
    back, _ = google_code(fakes)
    response = google_exchange(fakes, back["code"], "not-the-verifier")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"

    back, verifier = google_code(fakes)
    response = google_exchange(fakes, back["code"], verifier, redirect_uri="https://evil.example")
    assert response.status_code == 400
    assert response.json()["error"] == "redirect_uri_mismatch"


def test_google_bare_issuer_spelling(fakes: FakeProviders) -> None:
    fakes.google.issuer_spelling = "bare"
    back, verifier = google_code(fakes)
    token = google_exchange(fakes, back["code"], verifier).json()

    claims = verify(token["id_token"], fakes.settings()["GOOGLE_JWKS_URL"])

    assert claims["iss"] == fakes.settings()["GOOGLE_ISSUER"].removeprefix("http://")
    assert not claims["iss"].startswith("http")


@pytest.mark.parametrize(
    "override",
    [{"aud": "someone-else"}, {"exp": 1}, {"nonce": "other"}, {"iss": "https://evil.example"}],
)
def test_google_id_token_claims_override(fakes: FakeProviders, override: dict[str, Any]) -> None:
    fakes.google.id_token_claims = override
    back, verifier = google_code(fakes)
    token = google_exchange(fakes, back["code"], verifier).json()

    claims = verify(token["id_token"], fakes.settings()["GOOGLE_JWKS_URL"])

    assert {name: claims[name] for name in override} == override


def test_google_id_token_claim_dropped_with_none(fakes: FakeProviders) -> None:
    fakes.google.id_token_claims = {"nonce": None, "email_verified": None}
    back, verifier = google_code(fakes)
    token = google_exchange(fakes, back["code"], verifier).json()

    claims = verify(token["id_token"], fakes.settings()["GOOGLE_JWKS_URL"])

    assert "nonce" not in claims and "email_verified" not in claims


def test_google_id_token_signed_with_wrong_key(fakes: FakeProviders) -> None:
    fakes.google.sign_with_wrong_key = True
    back, verifier = google_code(fakes)
    token = google_exchange(fakes, back["code"], verifier).json()

    assert jwt.decode(token["id_token"], KeySet([fakes.google.wrong_key])).header["kid"] == "k1"
    with pytest.raises(BadSignatureError):
        verify(token["id_token"], fakes.settings()["GOOGLE_JWKS_URL"])


def test_google_userinfo_and_revoke(fakes: FakeProviders) -> None:
    url = fakes.settings()["GOOGLE_USERINFO_URL"]
    assert requests.get(url).status_code == 401
    response = requests.get(url, headers=bearer("ya29.unknown"))
    assert (response.status_code, response.json()) == (401, {"error": "invalid_token"})

    back, verifier = google_code(fakes, access_type="offline")
    token = google_exchange(fakes, back["code"], verifier).json()
    revoke = f"{fakes.url}/google/revoke"
    response = requests.post(revoke, data={"token": token["refresh_token"]})
    assert (response.status_code, response.content) == (200, b"")
    # Revoking the refresh token revoked the grant, its access token with it.
    assert requests.get(url, headers=bearer(token["access_token"])).status_code == 401
    response = requests.post(revoke, data={"token": token["refresh_token"]})
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_token",
        "error_description": "Token expired or revoked",
    }


# Naver


def naver_code(fakes: FakeProviders, state: str = "naver-state") -> str:
    return authorize(fakes, "naver", state=state)["code"]


def naver_token(fakes: FakeProviders, **params: str) -> requests.Response:
    values = {
        "grant_type": "authorization_code",
        "client_id": fakes.naver.client_id,
        "client_secret": fakes.naver.client_secret,
        "state": "naver-state",
        **params,
    }
    return requests.get(fakes.settings()["NAVER_TOKEN_URL"], params=values, timeout=5)


def test_naver_happy_path(fakes: FakeProviders) -> None:
    back = authorize(fakes, "naver", state="naver-state", auth_type="reprompt")
    assert back["state"] == "naver-state"
    assert fakes.naver.requests[-1].query["auth_type"] == "reprompt"

    response = naver_token(fakes, code=back["code"])

    assert response.status_code == 200
    token = response.json()
    assert token["token_type"] == "bearer"
    assert token["expires_in"] == "3600"  # a string, as Naver really sends it
    assert token["refresh_token"]
    assert {"+", "/", "="} <= set(token["access_token"])
    profile = requests.get(
        fakes.settings()["NAVER_PROFILE_URL"], headers=bearer(token["access_token"])
    )
    assert profile.status_code == 200
    assert profile.json() == {
        "resultcode": "00",
        "message": "success",
        "response": {
            "id": "32742776",
            "nickname": "OpenAPI",
            "name": "오픈 API",
            "email": "openapi@naver.com",
            "profile_image": "https://ssl.pstatic.net/static/pwe/address/nodata_33x33.gif",
        },
    }


def test_naver_token_by_post_form(fakes: FakeProviders) -> None:
    code = naver_code(fakes)
    response = requests.post(
        fakes.settings()["NAVER_TOKEN_URL"],
        data={
            "grant_type": "authorization_code",
            "client_id": fakes.naver.client_id,
            "client_secret": fakes.naver.client_secret,
            "code": code,
            "state": "naver-state",
            "redirect_uri": REDIRECT_URI,
        },
    )
    assert response.status_code == 200
    assert response.json()["expires_in"] == "3600"


def test_naver_errors_are_http_200(fakes: FakeProviders) -> None:
    code = naver_code(fakes)
    assert naver_token(fakes, code=code).json()["access_token"]

    reused = naver_token(fakes, code=code)
    assert reused.status_code == 200
    assert reused.json() == {
        "error": "invalid_request",
        "error_description": "no valid data in session",
    }

    wrong_state = naver_token(fakes, code=naver_code(fakes), state="other")
    assert wrong_state.status_code == 200
    assert wrong_state.json()["error_description"] == "no valid data in session"

    bad_secret = naver_token(fakes, code=naver_code(fakes), client_secret="wrong")
    assert bad_secret.status_code == 200
    assert bad_secret.json()["error"] == "invalid_client"

    no_state = naver_token(fakes, code=naver_code(fakes), state="")
    assert no_state.status_code == 200
    assert no_state.json()["error"] == "invalid_request"


def test_naver_authorize_requires_state(fakes: FakeProviders) -> None:
    fakes.naver.auto_approve = True
    response = requests.get(
        fakes.settings()["NAVER_AUTHORIZE_URL"],
        {"response_type": "code", "client_id": "fake-naver-client", "redirect_uri": REDIRECT_URI},
        allow_redirects=False,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_naver_profile_errors(fakes: FakeProviders) -> None:
    url = fakes.settings()["NAVER_PROFILE_URL"]

    missing = requests.get(url)
    assert (missing.status_code, missing.json()) == (
        401,
        {"resultcode": "028", "message": "Authentication header not exists"},
    )
    bad = requests.get(url, headers=bearer("AAAA+unknown="))
    assert (bad.status_code, bad.json()) == (
        401,
        {"resultcode": "024", "message": "Authentication failed"},
    )

    fakes.naver.profile_error = (200, {"resultcode": "024", "message": "Authentication failed"})
    token = naver_token(fakes, code=naver_code(fakes)).json()
    response = requests.get(url, headers=bearer(token["access_token"]))
    assert (response.status_code, response.json()["resultcode"]) == (200, "024")


def test_naver_profile_reflects_the_user(fakes: FakeProviders) -> None:
    fakes.naver.user = {"id": "kHhT3dM4Dq1-rFcPIQnW1bbm3fSjBtVeVCS0jdfCMnk"}
    token = naver_token(fakes, code=naver_code(fakes)).json()

    body = requests.get(
        fakes.settings()["NAVER_PROFILE_URL"], headers=bearer(token["access_token"])
    ).json()

    assert body["response"] == {"id": "kHhT3dM4Dq1-rFcPIQnW1bbm3fSjBtVeVCS0jdfCMnk"}


def test_naver_refresh_delete_and_revoke(fakes: FakeProviders) -> None:
    token = naver_token(fakes, code=naver_code(fakes)).json()
    token_url, profile_url = (
        fakes.settings()["NAVER_TOKEN_URL"],
        fakes.settings()["NAVER_PROFILE_URL"],
    )
    client = {"client_id": fakes.naver.client_id, "client_secret": fakes.naver.client_secret}

    refreshed = requests.post(
        token_url,
        params={"grant_type": "refresh_token", "refresh_token": token["refresh_token"], **client},
    ).json()
    assert set(refreshed) == {"access_token", "token_type", "expires_in"}
    assert refreshed["expires_in"] == "3600"

    deleted = requests.get(
        token_url,
        params={
            "grant_type": "delete",
            "access_token": "AAAA+never/issued=",
            "service_provider": "NAVER",
            **client,
        },
    )
    assert deleted.json() == {"access_token": "AAAA+never/issued=", "result": "success"}

    revoke = f"{fakes.url}/naver/oauth2.0/revoke"
    bad_client = requests.post(revoke, data={**client, "client_secret": "x", "token": "t"})
    assert (bad_client.status_code, bad_client.json()) == (
        401,
        {"error": "unauthorized_client", "error_description": "Client authentication failed."},
    )
    assert requests.post(revoke, data=client).status_code == 400
    done = requests.post(revoke, data={**client, "token": refreshed["access_token"]})
    assert (done.status_code, done.content) == (200, b"")
    assert requests.get(profile_url, headers=bearer(token["access_token"])).status_code == 401
    unknown = requests.post(revoke, data={**client, "token": "already-dead"})
    assert (unknown.status_code, unknown.content) == (200, b"")


# Kakao


def kakao_code(fakes: FakeProviders, **params: str) -> tuple[dict[str, str], str]:
    verifier, challenge = pkce_pair()
    values = {
        "scope": "openid,profile_nickname,profile_image,account_email",
        "nonce": "kakao-nonce",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **params,
    }
    return authorize(fakes, "kakao", **values), verifier


def kakao_token(fakes: FakeProviders, content_type: str = FORM_UTF8, **data: str) -> Any:
    form = {"client_id": fakes.kakao.client_id, "client_secret": fakes.kakao.client_secret, **data}
    body = "&".join(f"{key}={requests.utils.quote(value, safe='')}" for key, value in form.items())
    return requests.post(
        fakes.settings()["KAKAO_TOKEN_URL"],
        data=body.encode(),
        headers={"Content-Type": content_type},
        timeout=5,
    )


def kakao_exchange(fakes: FakeProviders, code: str, verifier: str, **data: str) -> Any:
    values = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    return kakao_token(fakes, **{**values, "code_verifier": verifier, **data})


def test_kakao_happy_path(fakes: FakeProviders) -> None:
    settings = fakes.settings()
    discovery = requests.get(f"{fakes.url}/kakao/.well-known/openid-configuration").json()
    assert discovery["issuer"] == settings["KAKAO_ISSUER"]
    assert discovery["jwks_uri"] == settings["KAKAO_JWKS_URL"]
    assert discovery["token_endpoint_auth_methods_supported"] == ["client_secret_post"]

    back, verifier = kakao_code(fakes, prompt="login")
    assert fakes.kakao.requests[-1].query["prompt"] == "login"
    response = kakao_exchange(fakes, back["code"], verifier)

    assert response.status_code == 200, response.text
    token = response.json()
    assert token["token_type"] == "bearer"
    assert token["expires_in"] == 21599 and token["refresh_token_expires_in"] == 5183999
    assert token["scope"] == "openid profile_nickname profile_image account_email"
    claims = verify(token["id_token"], settings["KAKAO_JWKS_URL"])
    assert claims["iss"] == settings["KAKAO_ISSUER"]
    assert claims["aud"] == fakes.kakao.client_id
    assert claims["sub"] == "123456789"
    assert claims["nonce"] == "kakao-nonce"
    assert claims["nickname"] == "홍길동" and claims["email"] == "sample@sample.com"
    assert "email_verified" not in claims
    assert claims["at_hash"] == expected_at_hash(token["access_token"])

    me = requests.get(settings["KAKAO_PROFILE_URL"], headers=bearer(token["access_token"]))
    assert me.status_code == 200
    assert me.json()["id"] == 123456789  # a JSON number
    assert me.json()["kakao_account"]["is_email_verified"] is True

    userinfo = requests.get(
        f"{fakes.url}/kakao/v1/oidc/userinfo", headers=bearer(token["access_token"])
    )
    assert userinfo.json() == {
        "sub": "123456789",
        "nickname": "홍길동",
        "picture": me.json()["kakao_account"]["profile"]["profile_image_url"],
        "email": "sample@sample.com",
        "email_verified": True,
    }
    info = requests.get(
        f"{fakes.url}/kakao/v1/user/access_token_info", headers=bearer(token["access_token"])
    ).json()
    assert info["id"] == 123456789 and 0 < info["expires_in"] <= 21599 and "app_id" in info


def test_kakao_id_token_only_with_openid(fakes: FakeProviders) -> None:
    back, verifier = kakao_code(fakes, scope="profile_nickname account_email")
    token = kakao_exchange(fakes, back["code"], verifier).json()

    assert "id_token" not in token
    assert token["scope"] == "profile_nickname account_email"


def test_kakao_token_endpoint_takes_only_a_form(fakes: FakeProviders) -> None:
    back, verifier = kakao_code(fakes)
    form = {"grant_type": "authorization_code", "code": back["code"], "redirect_uri": REDIRECT_URI}

    as_json = requests.post(
        fakes.settings()["KAKAO_TOKEN_URL"], json={**form, "code_verifier": verifier}
    )
    assert as_json.status_code == 400
    assert as_json.json()["error"] == "invalid_request"
    in_query = requests.post(fakes.settings()["KAKAO_TOKEN_URL"], params=form)
    assert in_query.status_code == 400
    # Without charset is fine too; the code survived the refusals above.
    plain = kakao_exchange(
        fakes, back["code"], verifier, content_type="application/x-www-form-urlencoded"
    )
    assert plain.status_code == 200


def test_kakao_koe_codes(fakes: FakeProviders) -> None:
    back, verifier = kakao_code(fakes)
    bad_secret = kakao_exchange(fakes, back["code"], verifier, client_secret="wrong")
    assert (bad_secret.status_code, bad_secret.json()) == (
        401,
        {
            "error": "invalid_client",
            "error_description": "Bad client credentials",
            "error_code": "KOE010",
        },
    )
    no_secret = kakao_token(
        fakes, grant_type="authorization_code", code=back["code"], client_secret=""
    )
    assert no_secret.json()["error_code"] == "KOE010"

    token = kakao_exchange(fakes, back["code"], verifier).json()
    reused = kakao_exchange(fakes, back["code"], verifier)
    assert reused.status_code == 400
    assert reused.json() == {
        "error": "invalid_grant",
        "error_description": f"authorization code not found for code={back['code']}",
        "error_code": "KOE320",
    }

    dead = kakao_token(fakes, grant_type="refresh_token", refresh_token="dead")
    assert dead.status_code == 400
    assert dead.json()["error"] == "invalid_grant" and dead.json()["error_code"] == "KOE322"
    assert token["refresh_token"]


def test_kakao_secret_off(fakes: FakeProviders) -> None:
    fakes.kakao.client_secret = ""
    back, verifier = kakao_code(fakes)

    response = kakao_exchange(fakes, back["code"], verifier, client_secret="")

    assert response.status_code == 200
    assert fakes.settings()["KAKAO_CLIENT_SECRET"] == ""


def test_kakao_pkce_and_redirect_uri_are_checked(fakes: FakeProviders) -> None:
    back, _ = kakao_code(fakes)
    response = kakao_exchange(fakes, back["code"], "not-the-verifier")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"

    back, verifier = kakao_code(fakes)
    response = kakao_exchange(fakes, back["code"], verifier, redirect_uri="https://evil.example")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_kakao_refresh(fakes: FakeProviders) -> None:
    back, verifier = kakao_code(fakes)
    token = kakao_exchange(fakes, back["code"], verifier).json()

    kept = kakao_token(fakes, grant_type="refresh_token", refresh_token=token["refresh_token"])
    assert kept.status_code == 200
    assert "refresh_token" not in kept.json() and "id_token" in kept.json()

    fakes.kakao.refresh_rotates = True
    rotated = kakao_token(fakes, grant_type="refresh_token", refresh_token=token["refresh_token"])
    assert rotated.json()["refresh_token"] != token["refresh_token"]
    assert rotated.json()["refresh_token_expires_in"] == 5183999
    old = kakao_token(fakes, grant_type="refresh_token", refresh_token=token["refresh_token"])
    assert old.json()["error_code"] == "KOE322"


def test_kakao_api_errors_and_logout(fakes: FakeProviders) -> None:
    url = fakes.settings()["KAKAO_PROFILE_URL"]
    for headers in ({}, bearer("unknown")):
        response = requests.get(url, headers=headers)
        assert (response.status_code, response.json()) == (
            401,
            {"msg": "this access token does not exist", "code": -401},
        )

    back, verifier = kakao_code(fakes)
    token = kakao_exchange(fakes, back["code"], verifier).json()
    logout = requests.post(
        f"{fakes.url}/kakao/v1/user/logout", headers=bearer(token["access_token"])
    )
    assert (logout.status_code, logout.json()) == (200, {"id": 123456789})
    assert requests.post(url, headers=bearer(token["access_token"])).status_code == 401


# All three


@pytest.mark.parametrize("provider", ["google", "naver", "kakao"])
def test_approval_page_approve(fakes: FakeProviders, provider: str) -> None:
    params = {
        "response_type": "code",
        "client_id": getattr(fakes, provider).client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid email profile",
        "state": "a&b=c \"'<>",
    }
    page = requests.get(fakes.url + AUTHORIZE[provider], params)

    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    form = FormReader()
    form.feed(page.text)
    assert getattr(fakes, provider).label in form.title
    assert "local fake" in page.text
    assert [button["text"] for button in form.buttons] == ["Approve as test user", "Cancel"]
    assert form.inputs == params
    user = getattr(fakes, provider).user
    email = user.get("email") or user["kakao_account"]["email"]
    assert email in page.text

    decision = next(b for b in form.buttons if b["text"] == "Approve as test user")
    response = requests.post(
        fakes.url + form.action,
        data={**form.inputs, decision["name"]: decision["value"]},
        allow_redirects=False,
    )
    back = callback(response)
    assert back["state"] == params["state"]
    assert back["code"]


@pytest.mark.parametrize("provider", ["google", "naver", "kakao"])
@pytest.mark.parametrize("how", ["cancel", "deny"])
def test_denial(fakes: FakeProviders, provider: str, how: str) -> None:
    params = {
        "response_type": "code",
        "client_id": getattr(fakes, provider).client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid",
        "state": "s1",
    }
    url = fakes.url + AUTHORIZE[provider]
    if how == "deny":
        getattr(fakes, provider).deny = True
        response = requests.get(url, params, allow_redirects=False)
    else:
        response = requests.post(url, {**params, "decision": "cancel"}, allow_redirects=False)

    back = callback(response)
    assert back["error"] == "access_denied" and back["state"] == "s1"
    assert "code" not in back
    if provider == "kakao":
        assert "error_description=User%20denied%20access" in response.headers["Location"]
    if provider == "naver":
        assert back["error_description"]


@pytest.mark.parametrize(
    ("provider", "url_key", "payload"),
    [
        ("google", "GOOGLE_TOKEN_URL", {"grant_type": "authorization_code", "code": "x"}),
        ("naver", "NAVER_TOKEN_URL", {"grant_type": "authorization_code", "code": "x"}),
        ("kakao", "KAKAO_TOKEN_URL", {"grant_type": "authorization_code", "code": "x"}),
    ],
)
def test_token_error_switch(
    fakes: FakeProviders, provider: str, url_key: str, payload: dict[str, str]
) -> None:
    getattr(fakes, provider).token_error = (503, {"error": "temporarily_unavailable"})

    response = requests.post(fakes.settings()[url_key], data=payload)

    assert (response.status_code, response.json()) == (503, {"error": "temporarily_unavailable"})


@pytest.mark.parametrize(
    ("provider", "path"),
    [
        ("google", "/google/v1/userinfo"),
        ("kakao", "/kakao/v2/user/me"),
        ("kakao", "/kakao/v1/oidc/userinfo"),
    ],
)
def test_profile_error_switch(fakes: FakeProviders, provider: str, path: str) -> None:
    getattr(fakes, provider).profile_error = (500, {"msg": "internal error", "code": -1})

    response = requests.get(fakes.url + path, headers=bearer("whatever"))

    assert (response.status_code, response.json()) == (500, {"msg": "internal error", "code": -1})


def test_delay_slows_back_channel_only(fakes: FakeProviders) -> None:
    fakes.google.delay = 0.5
    jwks_url = fakes.settings()["GOOGLE_JWKS_URL"]

    with pytest.raises(requests.Timeout):
        requests.get(jwks_url, timeout=0.2)
    started = time.monotonic()
    assert requests.get(jwks_url, timeout=5).status_code == 200
    assert time.monotonic() - started >= 0.5
    # The browser-facing authorize endpoint is not slowed.
    started = time.monotonic()
    google_code(fakes)
    assert time.monotonic() - started < 0.4


def test_bad_input_never_crashes_the_server(fakes: FakeProviders) -> None:
    google_token = fakes.settings()["GOOGLE_TOKEN_URL"]
    form = {"Content-Type": "application/x-www-form-urlencoded"}

    not_utf8 = requests.post(google_token, data=b"code=%ff%fe&grant_type=\xff", headers=form)
    assert not_utf8.status_code == 400
    assert not_utf8.json()["error"] == "invalid_request"
    garbage_basic = requests.post(
        google_token,
        data={"grant_type": "authorization_code", "code": "x"},
        headers={"Authorization": "Basic !!!"},
    )
    assert garbage_basic.status_code == 401
    kakao_query = requests.get(f"{fakes.url}/kakao/v2/user/me?a=%ff")
    assert kakao_query.status_code == 400 and kakao_query.json()["code"] == -2
    no_params = requests.get(fakes.settings()["NAVER_AUTHORIZE_URL"])
    assert no_params.status_code == 400 and no_params.json()["error"] == "invalid_request"
    header_injection = requests.get(
        fakes.settings()["KAKAO_AUTHORIZE_URL"],
        {"response_type": "code", "client_id": "fake-kakao-client", "redirect_uri": "x\r\nSet: 1"},
    )
    assert header_injection.status_code == 400

    assert requests.get(f"{fakes.url}/google/nope").status_code == 404
    assert requests.get(f"{fakes.url}/elsewhere").json()["error"] == "not_found"
    assert requests.get(f"{fakes.url}/google/token").status_code == 405
    assert requests.get(fakes.settings()["GOOGLE_JWKS_URL"]).status_code == 200


def test_requests_are_recorded(fakes: FakeProviders) -> None:
    requests.post(
        f"{fakes.url}/naver/oauth2.0/token?grant_type=refresh_token",
        data={"client_id": "a", "client_secret": "b"},
        headers={"X-Trace": "t1"},
    )

    [recorded] = fakes.naver.requests
    assert recorded.method == "POST"
    assert recorded.path == "/naver/oauth2.0/token"
    assert recorded.query == {"grant_type": "refresh_token"}
    assert recorded.form == {"client_id": "a", "client_secret": "b"}
    assert recorded.headers["x-trace"] == "t1"
    assert fakes.google.requests == [] and fakes.kakao.requests == []


def test_reset_restores_defaults(fakes: FakeProviders) -> None:
    provider: FakeProvider = fakes.kakao
    provider.user["kakao_account"]["email"] = "changed@example.com"
    provider.deny = provider.sign_with_wrong_key = True
    provider.token_error = (500, {})

    fakes.reset()

    assert provider.user["kakao_account"]["email"] == "sample@sample.com"
    assert not provider.deny and not provider.sign_with_wrong_key
    assert provider.token_error is None and provider.requests == []


def test_settings(fakes: FakeProviders) -> None:
    settings = fakes.settings()

    assert set(settings) == {
        "GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET", "GOOGLE_AUTHORIZE_URL", "GOOGLE_TOKEN_URL",
        "GOOGLE_USERINFO_URL", "GOOGLE_JWKS_URL", "GOOGLE_ISSUER", "GOOGLE_NATIVE_CLIENT_IDS",
        "NAVER_CLIENT_ID", "NAVER_CLIENT_SECRET", "NAVER_AUTHORIZE_URL", "NAVER_TOKEN_URL",
        "NAVER_PROFILE_URL",
        "KAKAO_CLIENT_ID", "KAKAO_CLIENT_SECRET", "KAKAO_SCOPES", "KAKAO_AUTHORIZE_URL",
        "KAKAO_TOKEN_URL", "KAKAO_PROFILE_URL", "KAKAO_JWKS_URL", "KAKAO_ISSUER",
        "KAKAO_NATIVE_APP_KEY", "KAKAO_APP_ID", "KAKAO_TOKEN_INFO_URL", "KAKAO_ADMIN_KEY",
        "KAKAO_UNLINK_URL",
    }  # fmt: skip
    assert fakes.url.startswith("http://127.0.0.1:")
    assert settings["GOOGLE_ISSUER"] == f"{fakes.url}/google"
    assert settings["KAKAO_ISSUER"] == f"{fakes.url}/kakao"
    assert settings["KAKAO_SCOPES"] == "openid profile_nickname profile_image account_email"
    assert settings["NAVER_CLIENT_ID"] == "fake-naver-client"


def test_fakeproviders_command_env() -> None:
    out = StringIO()

    call_command("fakeproviders", "--env", "--port", "8123", stdout=out)

    pairs = dict(word.split("=", 1) for word in out.getvalue().split())
    assert pairs["GOOGLE_ISSUER"] == "http://127.0.0.1:8123/google"
    assert pairs["KAKAO_SCOPES"] == "openid,profile_nickname,profile_image,account_email"
    assert pairs["KAKAO_TOKEN_INFO_URL"] == "http://127.0.0.1:8123/kakao/v1/user/access_token_info"
    assert len(pairs) == 26


def test_fakeproviders_command_only_with_debug_on() -> None:
    """Production does not even have the command: the app is installed with DEBUG on only."""
    production = {"DEBUG": "false", "SECRET_KEY": "x" * 50, "ISSUER": "https://a.example",
                  "EMAIL_HOST": "127.0.0.1"}  # fmt: skip

    listed = manage("help", **production)
    refused = manage("fakeproviders", "--env", **production)

    assert listed.returncode == 0, listed.stderr
    assert "[oauth]" in listed.stdout and "fakeproviders" not in listed.stdout
    assert refused.returncode != 0 and "Unknown command: 'fakeproviders'" in refused.stderr
    assert "[fakeproviders]" in manage("help", DEBUG="true").stdout


@pytest.mark.parametrize("quiet", [False, True])
def test_fakeproviders_command_serves_and_says_where(quiet: bool) -> None:
    """`make run FAKES=1` sets the settings itself, so there it says only where the fakes are
    (and the demo password printed before stays on screen)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "manage.py", "fakeproviders", "--port", str(port)]
    server = subprocess.Popen(
        command + (["--quiet"] if quiet else []),
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "DEBUG": "true", "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                up = requests.get(
                    f"http://127.0.0.1:{port}/google/.well-known/openid-configuration"
                )
                break
            except requests.ConnectionError:
                time.sleep(0.1)
    finally:
        server.terminate()
        # Through the same reader as the first line: it may already hold the lines after it
        # (communicate() would read the pipe past them).
        rest = server.stdout.read() if server.stdout is not None else ""
        server.wait(timeout=20)

    assert f"Fake Google, Naver and Kakao at http://127.0.0.1:{port}" in first
    assert up.status_code == 200
    assert ("export GOOGLE_CLIENT_ID=" in rest) is not quiet


# What the providers' SDKs hand our mobile apps (native sign-in, providers.md §7)


def test_kakao_sdk_login_gives_tokens_for_the_native_app_key(fakes: FakeProviders) -> None:
    answer = requests.post(f"{fakes.url}/kakao/sdk/login", data={"nonce": "n-1"}, timeout=5)

    tokens = answer.json()
    claims = verify(tokens["id_token"], f"{fakes.url}/kakao/.well-known/jwks.json")
    assert claims["aud"] == fakes.kakao.native_app_key == fakes.settings()["KAKAO_NATIVE_APP_KEY"]
    assert claims["nonce"] == "n-1" and claims["sub"] == "123456789"
    assert claims["iss"] == f"{fakes.url}/kakao"
    info = requests.get(
        fakes.settings()["KAKAO_TOKEN_INFO_URL"], headers=bearer(tokens["access_token"]), timeout=5
    ).json()
    assert info["app_id"] == fakes.kakao.app_id == int(fakes.settings()["KAKAO_APP_ID"])


def test_kakao_sdk_login_of_another_app(fakes: FakeProviders) -> None:
    tokens = fakes.kakao.sdk_login(app_key="someone-elses-key", app_id=999)

    claims = verify(tokens["id_token"], f"{fakes.url}/kakao/.well-known/jwks.json")
    info = requests.get(
        fakes.settings()["KAKAO_TOKEN_INFO_URL"], headers=bearer(tokens["access_token"]), timeout=5
    ).json()
    assert claims["aud"] == "someone-elses-key" and "nonce" not in claims
    assert info["app_id"] == 999


def test_google_sdk_sign_in_gives_an_id_token_for_the_native_client(fakes: FakeProviders) -> None:
    answer = requests.post(
        f"{fakes.url}/google/sdk/sign-in", data={"nonce": "n-2"}, timeout=5
    ).json()

    claims = verify(answer["id_token"], f"{fakes.url}/google/oauth2/v3/certs")
    assert claims["aud"] == fakes.google.native_client_id
    assert claims["aud"] == fakes.settings()["GOOGLE_NATIVE_CLIENT_IDS"]
    assert claims["nonce"] == "n-2" and claims["email_verified"] is True
    assert "at_hash" not in claims
