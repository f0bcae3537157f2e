"""Logs an operator can collect and trust with a breach: with LOG_FORMAT=json every line is one
JSON object naming its request, and a whole run of the flows (password and upstream sign-in,
authorize, code exchange, refresh, introspection, userinfo, revocation) leaves no secret, code,
token or password in them, even at LOG_LEVEL=DEBUG. X-Request-ID is kept only from the trusted
proxy, and only when it is a plain short token."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests

from accounts.models import User
from tests.conftest import PASSWORD, RegisteredClient, query
from tests.test_instances import (
    ROOT,
    free_port,
    post,
    production_env,
    signed_in_session,
    tokens_from,
    wait_until_up,
)
from tests.test_upstream_end_to_end import app_signs_in

pytestmark = pytest.mark.django_db(transaction=True)

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Server:
    def __init__(self, url: str, log: Path) -> None:
        self.url, self.log = url, log

    def lines(self) -> list[str]:
        return self.log.read_text().splitlines()


@pytest.fixture
def server(db: None, fake_providers: Any, tmp_path: Path) -> Iterator[Server]:
    """A production-configured gunicorn behind a trusted proxy, logging JSON at DEBUG to a
    file, with the upstream providers at their loopback fakes."""
    fake_providers.reset()
    for fake in fake_providers.providers:
        fake.auto_approve = True
    port = free_port()
    env = production_env(
        f"http://127.0.0.1:{port}",
        **fake_providers.settings(),
        LOG_FORMAT="json",
        LOG_LEVEL="DEBUG",
        TRUST_X_FORWARDED_FOR="true",
    )
    log = tmp_path / "server.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "authserver.wsgi",
                "--workers",
                "1",
                "--threads",
                "2",
                "--bind",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
                "--no-control-socket",
            ],
            cwd=ROOT,
            env=env,
            stdout=stderr,
            stderr=stderr,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(url)
            yield Server(url, log)
        finally:
            process.terminate()
            process.wait(timeout=30)


def ours(lines: list[str]) -> list[dict[str, Any]]:
    """The server's JSON lines (gunicorn's own few lines at warning level aside)."""
    return [json.loads(line) for line in lines if not line.startswith("[")]


def test_every_line_is_a_json_object_naming_its_request(
    server: Server, make_client: Callable[..., RegisteredClient], user: User
) -> None:
    client = make_client(first_party=True)
    browser = signed_in_session(server.url, user)
    tokens = tokens_from(server.url, browser, client)
    assert "access_token" in tokens

    lines = ours(server.lines())

    token_line = next(
        line
        for line in lines
        if line.get("path") == "/oauth/token" and line["logger"] == "authserver.requests"
    )
    assert token_line["level"] == "INFO"
    assert token_line["message"] == "POST /oauth/token 200"
    assert token_line["status"] == 200 and token_line["duration_ms"] > 0
    assert token_line["client_id"] == client.client_id
    assert re.fullmatch(r"[0-9a-f]{32}", token_line["request_id"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", token_line["time"])
    assert len({line["request_id"] for line in lines if "request_id" in line}) > 3


def test_a_trusted_proxys_request_id_is_kept_and_echoed(server: Server) -> None:
    response = requests.get(
        f"{server.url}/healthz/live", headers={"X-Request-ID": "req-42.proxy"}, timeout=10
    )

    assert response.headers["X-Request-ID"] == "req-42.proxy"
    assert any(line.get("request_id") == "req-42.proxy" for line in ours(server.lines()))


@pytest.mark.parametrize(
    "given",
    ["x" * 5000, "two words", "tab\tinside", "<script>", '{"json": 1}', "\u00e9t\u00e9", "-lead"],
)
def test_a_huge_or_malformed_request_id_is_replaced_never_logged(
    server: Server, given: str
) -> None:
    response = requests.get(
        f"{server.url}/healthz/live",
        headers={"X-Request-ID": given.encode().decode("latin-1")},
        timeout=10,
    )

    echoed = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", echoed)
    text = server.log.read_text()
    assert echoed in text
    assert given not in text and json.dumps(given)[1:-1] not in text


def test_no_secret_code_token_or_password_reaches_the_logs(
    server: Server,
    fake_providers: Any,
    make_client: Callable[..., RegisteredClient],
    user: User,
) -> None:
    url = server.url
    confidential = make_client(first_party=True)
    secrets: set[str] = {PASSWORD, str(confidential.secret)}

    # Sign-in failing, then succeeding, with a password.
    wrong = "wrong horse battery staple"
    secrets.add(wrong)
    stranger = requests.Session()
    page = stranger.get(f"{url}/accounts/login/", timeout=10)
    csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    stranger.post(
        f"{url}/accounts/login/",
        timeout=10,
        data={"csrfmiddlewaretoken": csrf, "username": user.username, "password": wrong},
    )
    secrets |= {csrf, *stranger.cookies.values()}
    browser = signed_in_session(url, user)
    secrets |= set(browser.cookies.values())

    # Authorize, exchange the code, refresh, introspect, userinfo, revoke.
    params = {
        "response_type": "code",
        "client_id": confidential.client_id,
        "redirect_uri": confidential.model.redirect_uris[0],
        "scope": "openid profile",
    }
    answer = browser.get(f"{url}/oauth/authorize", params=params, allow_redirects=False)
    code = query(answer.headers["Location"])["code"]
    secrets.add(code)
    first = post(
        url,
        "/oauth/token",
        confidential,
        grant_type="authorization_code",
        code=code,
        redirect_uri=params["redirect_uri"],
    ).json()
    second = post(
        url,
        "/oauth/token",
        confidential,
        grant_type="refresh_token",
        refresh_token=first["refresh_token"],
    ).json()
    reused = post(
        url,
        "/oauth/token",
        confidential,
        grant_type="refresh_token",
        refresh_token="not-" + first["refresh_token"],
    )
    assert reused.status_code == 400
    secrets.add("not-" + first["refresh_token"])
    for tokens in (first, second):  # a refresh brings no id_token
        secrets |= {tokens["access_token"], tokens["refresh_token"], tokens.get("id_token", "")}
    introspected = post(url, "/oauth/introspect", confidential, token=second["access_token"])
    assert introspected.json()["active"] is True
    userinfo = requests.get(
        f"{url}/oauth/userinfo",
        timeout=10,
        headers={"Authorization": f"Bearer {second['access_token']}"},
    )
    assert userinfo.status_code == 200
    revoked = post(url, "/oauth/revoke", confidential, token=second["refresh_token"])
    assert revoked.status_code == 200
    replay = post(
        url,
        "/oauth/token",
        confidential,
        grant_type="authorization_code",
        code=code,
        redirect_uri=params["redirect_uri"],
    )
    assert replay.status_code == 400
    wrong_secret = requests.post(
        f"{url}/oauth/token",
        auth=(confidential.client_id, "guess-1"),
        data={"grant_type": "refresh_token", "refresh_token": "x"},
    )
    assert wrong_secret.status_code == 401
    secrets.add("guess-1")

    # Sign-in through each provider's fake, then the app's tokens.
    for provider in ("google", "naver", "kakao"):
        app = make_client(name=f"{provider} app")
        secrets.add(str(app.secret))
        tokens = app_signs_in(url, app, provider)
        secrets |= {tokens["access_token"], tokens["refresh_token"], tokens["id_token"]}
    for fake in fake_providers.providers:
        secrets.add(fake.client_secret)
        for recorded in fake.requests:
            for name in ("code", "code_verifier", "client_secret", "refresh_token", "state"):
                if value := {**recorded.query, **recorded.form}.get(name):
                    secrets.add(value)
            if bearer := recorded.headers.get("authorization", "").partition(" ")[2]:
                secrets.add(bearer)

    text = server.log.read_text()
    assert len(ours(text.splitlines())) > 30  # the run was logged, at DEBUG
    secrets = {secret for secret in secrets if len(secret) >= 8}
    assert len(secrets) > 40
    leaked = [secret[:12] for secret in secrets if secret in text or quote(secret) in text]
    assert leaked == []


def test_without_a_trusted_proxy_a_request_id_is_always_made_here(live: str) -> None:
    response = requests.get(
        f"{live}/healthz/live", headers={"X-Request-ID": "chosen-by-a-stranger"}, timeout=10
    )

    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])
