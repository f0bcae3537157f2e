"""Several instances behind one issuer: two gunicorn servers sharing only PostgreSQL and Redis.

A token issued by one is honoured by the other, a refresh token moves between them, a revocation
on one is seen by introspection on the other, and a key rotated through one is used and verified
by both: nothing is held in a process that the others need.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import jwt
import pytest
import requests
from django.conf import settings
from django.db import connection

from accounts.models import User
from oauth.models import SigningKey
from tests.conftest import PASSWORD, RegisteredClient

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql" or not settings.REDIS_URL,
        reason="instances share PostgreSQL and Redis",
    ),
    pytest.mark.django_db(transaction=True),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def production_env(issuer: str, **overrides: str) -> dict[str, str]:
    """The environment of a production-configured server of ours on the test database: what
    production refuses to start without, and no demo data."""
    return {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": settings.SECRET_KEY,
        "SIGNING_KEY_ENCRYPTION_KEY": settings.SIGNING_KEY_ENCRYPTION_KEY,
        "ISSUER": issuer,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "DEMO_CLIENT": "false",
        "EMAIL_HOST": "127.0.0.1",
        **overrides,
    }


def database_url() -> str:
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def instances(db: None) -> Iterator[tuple[str, str]]:
    """Two production-configured servers for one issuer, on the test database."""
    ports = free_port(), free_port()
    issuer = f"http://127.0.0.1:{ports[0]}"
    env = production_env(issuer, SHARED_CACHE_CHECK_INTERVAL="1")
    servers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "authserver.wsgi",
                "--workers",
                "1",
                "--bind",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
                "--no-control-socket",  # gunicorn's default socket is one per user, not server
            ],
            cwd=ROOT,
            env=env,
        )  # fmt: skip
        for port in ports
    ]
    urls = tuple(f"http://127.0.0.1:{port}" for port in ports)
    try:
        for url in urls:
            wait_until_up(url)
        yield urls  # type: ignore[misc]
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)


def wait_until_up(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/ping", timeout=2).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or its worker still booting
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not start")


def signed_in_session(url: str, user: User) -> requests.Session:
    browser = requests.Session()
    page = browser.get(f"{url}/accounts/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    browser.post(
        f"{url}/accounts/login/",
        data={"csrfmiddlewaretoken": token, "username": user.username, "password": PASSWORD},
        timeout=10,
    )
    return browser


def tokens_from(url: str, browser: requests.Session, client: RegisteredClient) -> dict[str, Any]:
    params = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": client.model.redirect_uris[0],
        "scope": "openid profile",
    }
    answer = browser.get(f"{url}/oauth/authorize?{urlencode(params)}", allow_redirects=False)
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    return post(url, "/oauth/token", client, grant_type="authorization_code", code=code,
                redirect_uri=params["redirect_uri"]).json()  # fmt: skip


def post(url: str, path: str, client: RegisteredClient, **data: str) -> requests.Response:
    return requests.post(
        f"{url}{path}", data=data, auth=(client.client_id, client.secret or ""), timeout=10
    )


def me(url: str, access_token: str) -> int:
    response = requests.get(
        f"{url}/api/me", headers={"Authorization": f"Bearer {access_token}"}, timeout=10
    )
    return response.status_code


def eventually(check: Callable[[], bool], seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def rotate_through_the_admin(url: str, operator: User) -> None:
    """An operator rotates the signing keys with the admin's action on one instance."""
    browser = signed_in_session(url, operator)
    page = browser.get(f"{url}/admin/oauth/signingkey/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    active = SigningKey.objects.get(state=SigningKey.State.ACTIVE, algorithm="RS256")
    done = browser.post(
        f"{url}/admin/oauth/signingkey/",
        data={"csrfmiddlewaretoken": token, "action": "rotate",
              "_selected_action": [str(active.pk)], "index": 0},
        timeout=10,
    )  # fmt: skip
    assert done.status_code == 200 and "is now active" in done.text


def test_two_instances_share_tokens_revocations_and_keys(
    instances: tuple[str, str],
    user: User,
    make_user: Callable[..., User],
    make_client: Callable[..., RegisteredClient],
) -> None:
    first, second = instances
    client = make_client(first_party=True, introspect_any_token=True)
    browser = signed_in_session(first, user)

    issued = tokens_from(first, browser, client)
    assert me(second, issued["access_token"]) == 200

    refreshed = post(second, "/oauth/token", client, grant_type="refresh_token",
                     refresh_token=issued["refresh_token"])  # fmt: skip
    assert refreshed.status_code == 200
    refreshed_tokens = refreshed.json()

    assert post(first, "/oauth/revoke", client,
                token=refreshed_tokens["refresh_token"]).status_code == 200  # fmt: skip
    seen = post(second, "/oauth/introspect", client, token=refreshed_tokens["access_token"])
    assert seen.json() == {"active": False}

    old_kid = jwt.get_unverified_header(issued["access_token"])["kid"]
    rotate_through_the_admin(first, make_user("operator", is_staff=True, is_superuser=True))
    new_kid = SigningKey.objects.get(state=SigningKey.State.ACTIVE, algorithm="RS256").kid
    assert new_kid != old_kid

    def signs_with_the_new_key(url: str, browser: requests.Session) -> bool:
        token = tokens_from(url, browser, client)["access_token"]
        return jwt.get_unverified_header(token)["kid"] == new_kid

    # Each within SHARED_CACHE_CHECK_INTERVAL (1 s here), without a restart.
    assert eventually(lambda: signs_with_the_new_key(first, browser))
    assert eventually(lambda: signs_with_the_new_key(second, signed_in_session(second, user)))
    after_rotation = tokens_from(first, browser, client)
    assert me(second, after_rotation["access_token"]) == 200
    assert me(second, issued["access_token"]) == 200  # signed before the rotation: still valid
