"""The whole flow over real HTTP against a live server, as third-party apps run it: authlib's
OAuth2Session and requests-oauthlib, a person's browser session done with `requests`; and the
READMEs' quick start, run as written.

authorize (sign in + consent) → code → tokens → userinfo → refresh → revoke → introspection
says inactive.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import secrets
import shlex
import subprocess
import sys
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from django.core.management import call_command
from joserfc import jwt
from joserfc.jwk import KeySet
from requests_oauthlib import OAuth2Session as RequestsOAuthlibSession

from accounts.models import User
from tests.conftest import PASSWORD, RegisteredClient

ROOT = Path(__file__).resolve().parent.parent
CREATECLIENT = re.compile(r"^DEBUG=true \.venv/bin/python manage\.py createclient (.+)$", re.M)
SCRIPT = re.compile(r"^```python\n(.*?)^```$", re.M | re.S)


@pytest.fixture
def server(live: str) -> dict[str, Any]:
    """The live server's discovery document; its issuer is the live server's URL."""
    return requests.get(f"{live}/.well-known/openid-configuration", timeout=10).json()


def sign_in_and_allow(authorization_url: str, username: str, password: str) -> str:
    """A person's browser: sign in, allow on the consent page; return the redirect it gets.

    Self-contained (it imports what it uses), as it is also the quick start's browser.
    """
    import re

    import requests

    csrf = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
    browser = requests.Session()
    page = browser.get(authorization_url, timeout=10)  # redirected to the login page
    assert "/accounts/login/" in page.url
    page = browser.post(
        page.url,
        data={
            "csrfmiddlewaretoken": csrf.search(page.text).group(1),  # type: ignore[union-attr]
            "username": username,
            "password": password,
        },
        headers={"Referer": page.url},
        timeout=10,
    )
    assert "wants to use your account" in page.text  # back at authorize: the consent page
    approved = browser.post(
        page.url,
        data={"csrfmiddlewaretoken": csrf.search(page.text).group(1), "decision": "allow"},  # type: ignore[union-attr]
        allow_redirects=False,
        timeout=10,
    )
    assert approved.status_code == 303
    return approved.headers["Location"]


def person_approves(authorization_url: str, user: User) -> str:
    return sign_in_and_allow(authorization_url, user.username, PASSWORD)


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

    redirect = person_approves(url, user)
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


def quick_start() -> tuple[list[str], str]:
    """The READMEs' quick start: the createclient line's arguments and the script. The Korean
    README must show the very same."""
    shown: set[tuple[str, str]] = set()
    for readme in ("README.md", "README.ko.md"):
        text = (ROOT / readme).read_text().replace("\\\n", " ")  # join continued lines
        commands, scripts = CREATECLIENT.findall(text), SCRIPT.findall(text)
        assert len(commands) == 1 and len(scripts) == 1, readme
        shown.add((commands[0], scripts[0]))
    assert len(shown) == 1, "README.md and README.ko.md show different quick starts"
    command, script = shown.pop()
    return shlex.split(command), script


BROWSER = """#!{python}
import sys

import requests

{sign_in_and_allow}

location = sign_in_and_allow(sys.argv[1], {username!r}, {password!r})
requests.get(location, timeout=10)  # back to the app, which was waiting for it
"""


def run_quick_start(issuer: str, client_id: str, user: User, scratch: Path) -> str:
    """Run the quick start's script as written, with `user` in the browser; return its output.

    The browser is whatever the BROWSER variable names (Python's `webbrowser`): here a script
    that signs in as `user`, allows, and follows the redirect to the app's loopback server.
    """
    _args, script = quick_start()
    (scratch / "quickstart.py").write_text(script)
    browser = scratch / "browser"
    browser.write_text(
        BROWSER.format(
            python=sys.executable,
            sign_in_and_allow=inspect.getsource(sign_in_and_allow),
            username=user.username,
            password=PASSWORD,
        )
    )
    browser.chmod(0o755)
    run = subprocess.run(
        [sys.executable, "quickstart.py"],
        cwd=scratch,
        env={**os.environ, "ISSUER": issuer, "CLIENT_ID": client_id, "BROWSER": str(browser)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def printed(output: str, label: str) -> Any:
    """The JSON the script printed after `label`."""
    return json.JSONDecoder().raw_decode(output.split(label, 1)[1].lstrip())[0]


def test_the_quick_start_runs_as_written(
    live: str, user: User, make_client: Callable[..., RegisteredClient], tmp_path: Path
) -> None:
    client = make_client(
        public=True, redirect_uris=["http://127.0.0.1/callback"], scope="openid profile email"
    )

    output = run_quick_start(live, client.client_id, user, tmp_path)

    id_token = printed(output, "Verified id_token:")
    assert id_token["sub"] == str(user.pk) and id_token["aud"] == client.client_id
    assert id_token["iss"] == live
    assert printed(output, "UserInfo:") == {
        "sub": str(user.pk),
        "name": "Alice Example",
        "preferred_username": "alice",
        "given_name": "Alice",
        "family_name": "Example",
        "updated_at": int(user.updated_at.timestamp()),
        "email": "alice@example.com",
        "email_verified": True,
    }


def test_the_readmes_createclient_line_registers_a_client_the_quick_start_works_with(
    live: str, user: User, tmp_path: Path
) -> None:
    args, _script = quick_start()
    out = StringIO()
    call_command("createclient", *args, stdout=out)
    registered = json.loads(out.getvalue())
    assert registered["client_type"] == "public" and "client_secret" not in registered

    output = run_quick_start(live, registered["client_id"], user, tmp_path)

    assert printed(output, "Verified id_token:")["sub"] == str(user.pk)


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

    redirect = person_approves(url, user)
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
        "updated_at": int(user.updated_at.timestamp()),
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
