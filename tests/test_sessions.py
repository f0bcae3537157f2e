"""Sessions of the server's own pages: read from a store every process shares, and a new key for
every sign-in. Under gunicorn with several workers and no Redis, a worker's own cache kept an old
copy of a session: after the fresh sign-in that max_age or prompt=login forces, another worker
still saw the old sign-in and asked again."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests
from django.conf import settings
from django.db import connection
from django.test import Client as HttpClient

from accounts.models import User
from tests.conftest import PASSWORD, RegisteredClient
from tests.test_instances import free_port, production_env, wait_until_up
from tests.test_settings import manage

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("redis_url", "engine"),
    [("", "django.contrib.sessions.backends.db"), ("redis://127.0.0.1:6379/1", "cached_db")],
)
def test_sessions_are_kept_where_every_process_reads_them(redis_url: str, engine: str) -> None:
    shown = manage(
        "shell", "-c", "from django.conf import settings; print(settings.SESSION_ENGINE)",
        DEBUG="true", REDIS_URL=redis_url,
    )  # fmt: skip

    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip().endswith(engine)


def test_signing_in_again_starts_a_new_session(browser: HttpClient, user: User) -> None:
    credentials = {"username": user.username, "password": PASSWORD}
    browser.post("/accounts/login/", credentials)
    first = browser.cookies[settings.SESSION_COOKIE_NAME].value

    browser.post("/accounts/login/", credentials)

    assert browser.cookies[settings.SESSION_COOKIE_NAME].value != first


@pytest.fixture
def workers(db: None) -> Iterator[str]:
    """One production-configured server of three workers and no shared cache."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = production_env(url, REDIS_URL="")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "authserver.wsgi", "--workers", "3",
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--no-control-socket"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        wait_until_up(url)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the workers share PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_every_worker_sees_the_fresh_sign_in_a_demand_forced(
    workers: str, user: User, make_client: Callable[..., RegisteredClient]
) -> None:
    """max_age=1: each time, a second has passed since the last sign-in, so the person signs
    in again; every worker must then see it, not ask a third time. Several rounds, since which
    worker answers which request is the kernel's choice."""
    client = make_client(first_party=True)
    browser = requests.Session()
    authorize = f"{workers}/oauth/authorize?" + urlencode({
        "response_type": "code", "client_id": client.client_id, "max_age": "1",
        "redirect_uri": client.model.redirect_uris[0], "scope": "openid",
    })  # fmt: skip
    for _ in range(6):
        time.sleep(1.1)
        login = browser.get(authorize, timeout=10)  # sent to sign in: older than max_age
        assert "/accounts/login/" in login.url
        back = browser.post(
            login.url,
            data={"csrfmiddlewaretoken": CSRF.search(login.text).group(1),  # type: ignore[union-attr]
                  "username": user.username, "password": PASSWORD},
            allow_redirects=False, timeout=10,
        )  # fmt: skip
        answer = browser.get(f"{workers}{back.headers['Location']}", allow_redirects=False)
        assert answer.headers["Location"].startswith(client.model.redirect_uris[0]), (
            "asked to sign in again right after signing in"
        )
